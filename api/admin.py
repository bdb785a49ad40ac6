"""API tokens in the admin: issue one for a staff user (shown once, after a redirect, as new
client keys are: `clients.reveal`), see when each was last used, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from api import services
from api.models import ApiToken
from clients import reveal
from core.actor import Actor
from core.commands import validation_message
from core.errors import Conflict


class IssueTokenForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        min_value=1,
        initial=lambda: settings.GATEKEEPER_API_TOKEN_DAYS,
        help_text="The token stops working after this many days.",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "label", "read_only"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(
            is_staff=True, is_active=True
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "label",
        "read_only",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["read_only"]
    search_fields = ["prefix", "label", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]
    readonly_fields = [
        "user",
        "prefix",
        "label",
        "read_only",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_at",
    ]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = IssueTokenForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["user", "label", "read_only", "expires_in_days"]
        return self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def get_urls(self) -> list[URLPattern]:
        shown = path(
            "shown/<str:token>/",
            self.admin_site.admin_view(self.shown_view),
            name="api_apitoken_shown",
        )
        return [shown, *super().get_urls()]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        if request.method != "POST":
            return super().add_view(request, form_url, extra_context)
        form = IssueTokenForm(request.POST)
        if not form.is_valid() or not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        data = form.cleaned_data
        try:
            issued = services.issue_token(
                data["user"],
                label=data["label"],
                read_only=data["read_only"],
                expires_at=timezone.now() + timedelta(days=data["expires_in_days"]),
                actor=Actor.from_request(request),
            )
        except ValidationError as exc:
            self.message_user(request, validation_message(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)
        item = {"token": issued.token.pk, "plaintext": issued.plaintext}
        key = reveal.keep({"items": [item]}, user_id=request.user.pk)
        return HttpResponseRedirect(reverse("admin:api_apitoken_shown", args=[key]))

    def shown_view(self, request: HttpRequest, token: str) -> HttpResponse:
        """The new token, exactly once; afterwards "already shown"."""
        items = (reveal.take_kept(token, user_id=request.user.pk) or {}).get("items", [])
        found = ApiToken.objects.select_related("user").in_bulk([i["token"] for i in items])
        shown = [(found[i["token"]], i["plaintext"]) for i in items if i["token"] in found]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "New API token" if shown else "Already shown",
            "shown": shown,
        }
        response = TemplateResponse(
            request, "admin/apitoken/shown_once.html", context, status=200 if shown else 410
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = Actor.from_request(request)
        revoked = 0
        for token in queryset:
            try:
                services.revoke_token(token, actor=actor)
            except Conflict:
                continue
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API token(s).")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("api.change_apitoken")
