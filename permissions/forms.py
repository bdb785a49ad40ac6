"""Admin forms: methods as checkboxes over the comma string that Permission.methods stores."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from permissions import services
from permissions.models import Permission, RateLimit
from routes import patterns


class MethodsField(forms.MultipleChoiceField):
    """One checkbox per method; cleans to the canonical comma string ("GET,POST")."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[(m, m) for m in patterns.METHODS], **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value

    def clean(self, value: Any) -> str:
        chosen = set(super().clean(value))
        return ",".join(m for m in patterns.METHODS if m in chosen)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return super().has_changed(self.prepare_value(initial), data)


class PermissionForm(forms.ModelForm):
    methods = MethodsField(help_text="Only methods configured on the route can be granted.")

    class Meta:
        model = Permission
        fields = ["client", "route", "methods"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # On change the admin shows the route read-only, so it is not a form field then.
        route = cleaned.get("route") if "route" in self.fields else self.instance.route
        if route is not None and cleaned.get("methods"):
            try:
                services.check_methods(route, cleaned["methods"])
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class RateLimitForm(forms.ModelForm):
    # The model field's form field allows 0; the database would refuse it with a bare message.
    limit = forms.IntegerField(min_value=1, help_text="Decisions allowed per window.")

    class Meta:
        model = RateLimit
        fields = ["client", "route", "limit", "window"]
