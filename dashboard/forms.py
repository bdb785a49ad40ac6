"""Forms of the dashboard pages."""

from __future__ import annotations

import uuid

from django import forms

from clients.models import Client
from routes.patterns import METHODS


class TesterForm(forms.Form):
    """A request to explain. The headers are never shown back (they may hold a key)."""

    method = forms.CharField(max_length=16, initial="GET", help_text="As sent; case matters.")
    host = forms.CharField(max_length=255, initial="api.example.com")
    uri = forms.CharField(
        max_length=2000, initial="/", label="URI", help_text="Path and query, as sent."
    )
    client = forms.CharField(
        max_length=100,
        required=False,
        label="As client",
        help_text="A client's name or id: explain as if it sent a valid credential.",
    )
    headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text="Authorization or X-API-Key, one 'Name: value' a line. Never shown back, "
        "stored or logged; no nonce is used up and no rate limit counted.",
    )

    def clean_client(self) -> Client | None:
        text = self.cleaned_data["client"].strip()
        if not text:
            return None
        try:
            return Client.objects.get(pk=uuid.UUID(text))
        except (ValueError, Client.DoesNotExist):
            pass
        client = Client.objects.filter(name__iexact=text).first()
        if client is None:
            raise forms.ValidationError("No client has this name or id.")
        return client

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if cleaned.get("client") is not None and cleaned.get("headers", "").strip():
            raise forms.ValidationError("Give headers or a client, not both.")
        return cleaned


class GrantForm(forms.Form):
    """Several routes and methods at once, from the client page."""

    routes = forms.TypedMultipleChoiceField(
        coerce=int, choices=(), widget=forms.CheckboxSelectMultiple
    )
    methods = forms.MultipleChoiceField(
        choices=[(m, m) for m in METHODS], widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: object, route_choices: list[tuple[int, str]], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.fields["routes"].choices = route_choices
