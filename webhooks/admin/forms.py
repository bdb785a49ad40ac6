"""The endpoint form: event types as checkboxes, the client filter as a client picker. The
rules themselves live in `Endpoint.clean` (the services call it too)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple

from clients.models import Client
from webhooks.models import Endpoint, EventType


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(t.value, t.value) for t in EventType.subscribable()],
        widget=forms.CheckboxSelectMultiple,
        initial=[t.value for t in EventType.subscribable()],
        help_text="The event types this endpoint receives.",
    )
    client_ids = forms.ModelMultipleChoiceField(
        queryset=Client.objects.all(),
        required=False,
        widget=FilteredSelectMultiple("clients", is_stacked=False),
        label="Only about these clients",
        help_text="Empty: events about every client. Events that concern no client (routes, "
        "config applies, endpoints) always go.",
    )

    class Meta:
        model = Endpoint
        fields = ["name", "url", "description", "events", "client_ids", "cooldown_seconds"]
        widgets = {"url": forms.URLInput(attrs={"size": 80})}

    def clean_client_ids(self) -> list[str]:
        return sorted(str(client.pk) for client in self.cleaned_data["client_ids"])

    def settable(self) -> dict[str, Any]:
        """The cleaned values, as the services take them."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
