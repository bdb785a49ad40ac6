"""The route page (issue 13): method rules as one compact row, the clients that hold a
permission on the route, the routes that shadow it or that it shadows, its latest decisions.

Registered in place of `routes.admin.RouteAdmin`, which may not import permissions or authz.
Removing a method that permissions use asks for a confirmation that names them, because
saving narrows (or deletes) those permissions. Writes go through `routes.services`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.forms import ModelForm
from django.http import HttpRequest

from audit.models import DecisionRecord
from core.actor import Actor
from dashboard.admin.clients import decisions_url, tester_url
from dashboard.admin.page import ObjectPage
from permissions.models import Permission
from routes import services
from routes.admin import RouteAdmin
from routes.models import Auth, Route
from routes.patterns import METHODS

LATEST = 10
NOT_CONFIGURED = ""


def rule_field(method: str) -> str:
    return f"rule_{method}"


def _rule(method: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=method, required=False, choices=[(NOT_CONFIGURED, "—"), *Auth.choices]
    )


class RouteForm(forms.ModelForm):
    """The route's fields plus one select per method: its auth, or not configured."""

    # One per routes.patterns.METHODS (the admin needs them declared on the class).
    rule_GET = _rule("GET")
    rule_HEAD = _rule("HEAD")
    rule_POST = _rule("POST")
    rule_PUT = _rule("PUT")
    rule_PATCH = _rule("PATCH")
    rule_DELETE = _rule("DELETE")
    rule_OPTIONS = _rule("OPTIONS")

    confirm_narrowing = forms.BooleanField(
        required=False,
        label="Yes, narrow those permissions",
        help_text="Removing a method takes it away from every permission on this route.",
    )

    class Meta:
        model = Route
        fields = list(services.ROUTE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.method_rules() if self.instance.pk else {}
        for method in METHODS:
            self.fields[rule_field(method)].initial = current.get(method, NOT_CONFIGURED)

    def rules(self) -> dict[str, str]:
        return {
            method: self.cleaned_data[rule_field(method)]
            for method in METHODS
            if self.cleaned_data.get(rule_field(method))
        }

    def narrowed(self) -> list[Permission]:
        """The permissions that saving would narrow: they hold a method being removed."""
        if not self.instance.pk:
            return []
        removed = set(self.instance.method_rules()) - set(self.rules())
        if not removed:
            return []
        holds = Q()
        for method in removed:
            holds |= Q(methods__regex=rf"(^|,){method}(,|$)")
        return list(Permission.objects.filter(holds, route=self.instance).select_related("client"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        narrowed = self.narrowed()
        if narrowed and not cleaned.get("confirm_narrowing"):
            removed = sorted(set(self.instance.method_rules()) - set(self.rules()))
            names = "; ".join(f"{p.client} ({p.methods})" for p in narrowed)
            raise forms.ValidationError(
                f"Removing {', '.join(removed)} narrows {len(narrowed)} permission(s): {names}. "
                "Tick the box below to save anyway."
            )
        return cleaned


admin.site.unregister(Route)


@admin.register(Route)
class RoutePage(ObjectPage, RouteAdmin):
    form = RouteForm
    inlines = []
    change_form_template = "admin/routes/route/route_page.html"

    def get_fieldsets(self, request: HttpRequest, obj: Route | None = None) -> list:
        rules = tuple(rule_field(method) for method in METHODS)
        fieldsets = [
            (None, {"fields": [*services.ROUTE_FIELDS, "created_at", "updated_at"]}),
            (
                "Method rules (a method without a rule is denied)",
                {"fields": [rules], "classes": ["gk-method-rules"]},
            ),
        ]
        # Only a change that came back (an error, or methods that permissions use) needs it.
        if obj is not None and request.method == "POST":
            fieldsets.append(("Confirm", {"fields": ["confirm_narrowing"]}))
        return fieldsets

    def save_model(self, request: HttpRequest, obj: Route, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.set_route_methods(obj, form.rules(), actor=Actor.from_request(request))

    def page_context(self, request: HttpRequest, route: Route) -> dict[str, Any]:
        index = Route.objects.shadow_index()
        shadowed_by = index.shadows(route.pk, route.domain, route.pattern)
        shadows = index.taken_from(route.pk, route.domain, route.pattern)
        rules = route.method_rules()
        sample_host = route.domain.removeprefix("*.") if route.domain != "*" else "api.example.com"
        sample_path = "/".join(
            "x" if part == "*" or part.startswith("{") else part
            for part in route.pattern.split("/")
        )
        return {
            "route_page": True,
            "holders": list(
                Permission.objects.filter(route=route).select_related("client").order_by("client")
            ),
            "shadowed_by": shadowed_by,
            "shadows": shadows,
            "decisions": list(
                DecisionRecord.objects.filter(route_id=route.pk).order_by("-time", "-id")[:LATEST]
            ),
            "decisions_url": decisions_url(route=str(route.pk)),
            "tester_url": tester_url(
                method=next(iter(rules), "GET"), host=sample_host, uri=sample_path or "/"
            ),
        }
