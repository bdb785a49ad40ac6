"""Clients and credentials in the admin. Every write goes through `clients.services`.

Issuing, rotating and the list's actions are POSTs that redirect to a page showing the new
secrets exactly once (`clients.reveal`, `admin/clients/secret_once.html`, not cached); a
reload says "already shown" and never issues another. A secret never goes into the session,
the messages framework, a form field, a URL or a log line; afterwards only its prefix is
visible. The client page's sections that need other apps (permissions, limits, decisions)
are added by `dashboard.admin.clients`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.views.decorators.http import require_POST

from clients import reveal, services
from clients.models import Client, Credential
from core.actor import Actor
from core.commands import validation_message
from core.durations import format_duration
from core.errors import Conflict, GatekeeperError


def _rotation_grace() -> timedelta:
    return timedelta(seconds=settings.GATEKEEPER_ROTATION_GRACE)


def _rotate_description() -> str:
    return f"Rotate API keys ({format_duration(_rotation_grace())} grace)"


def _error_text(exc: Exception) -> str:
    return validation_message(exc) if isinstance(exc, ValidationError) else str(exc)


def _form_errors(form: forms.Form) -> str:
    return "; ".join(
        f"{form.fields[name].label or name}: {' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    )


class IssueForm(forms.Form):
    """The client page's "issue a credential" form."""

    kind = forms.ChoiceField(choices=Credential.Kind.choices)
    label = forms.CharField(max_length=100, required=False)
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, required=False)

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "live_credentials", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "description", "id"]
    fields = ["name", "status", "description", "id", "created_at", "updated_at"]
    readonly_fields = ["id", "created_at", "updated_at"]
    actions = ["issue_api_key", "issue_hmac_secret", "rotate_api_keys", "suspend", "reactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return super().get_queryset(request).with_live_counts()

    @admin.display(
        description="Live API keys / HMAC secrets",
        ordering=F("live_api_keys") + F("live_hmac_secrets"),
    )
    def live_credentials(self, obj: Client) -> str:
        return f"{obj.live_api_keys} / {obj.live_hmac_secrets}"

    def has_issue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.add_credential")

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        # A rotation issues a credential and puts a deadline on the existing ones.
        return request.user.has_perms(["clients.add_credential", "clients.change_credential"])

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_credential")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "secret/<str:token>/",
                wrap(self.secret_view),
                name=f"{name}_secret",
            ),
            path(
                "<path:object_id>/credentials/issue/",
                wrap(require_POST(self.issue_view)),
                name=f"{name}_issue",
            ),
            path(
                "<path:object_id>/credentials/rotate/",
                wrap(require_POST(self.rotate_view)),
                name=f"{name}_rotate",
            ),
            path(
                "<path:object_id>/credentials/<int:credential_id>/revoke/",
                wrap(require_POST(self.revoke_view)),
                name=f"{name}_revoke",
            ),
        ]
        return own + super().get_urls()

    def _client_or_404(self, request: HttpRequest, object_id: str) -> Client:
        client = self.get_object(request, object_id)
        if client is None:
            raise Http404("No such client.")
        return client

    def _back(self, client: Client) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))

    def issue_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One new API key or HMAC secret, with an optional label and expiry."""
        if not self.has_issue_permission(request):
            raise PermissionDenied
        client = self._client_or_404(request, object_id)
        form = IssueForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _form_errors(form), messages.ERROR)
            return self._back(client)
        issue = {
            Credential.Kind.API_KEY: services.issue_api_key,
            Credential.Kind.HMAC: services.issue_hmac_secret,
        }[form.cleaned_data["kind"]]
        try:
            issued = issue(
                client,
                actor=Actor.from_request(request),
                label=form.cleaned_data["label"],
                expires_at=form.expires_at(),
            )
        except (ValidationError, GatekeeperError) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return self._back(client)
        return self._redirect_to_secrets(request, [issued])

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_rotate_permission(request):
            raise PermissionDenied
        client = self._client_or_404(request, object_id)
        kind = request.POST.get("kind", "")
        if kind not in Credential.Kind.values:
            self.message_user(request, "Choose API keys or HMAC secrets to rotate.", messages.ERROR)
            return self._back(client)
        try:
            issued = services.rotate_credentials(
                client, kind=kind, grace=_rotation_grace(), actor=Actor.from_request(request)
            )
        except (ValidationError, GatekeeperError) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return self._back(client)
        return self._redirect_to_secrets(request, [issued])

    def revoke_view(self, request: HttpRequest, object_id: str, credential_id: int) -> HttpResponse:
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        client = self._client_or_404(request, object_id)
        credential = get_object_or_404(Credential, pk=credential_id, client=client)
        try:
            services.revoke_credential(credential, actor=Actor.from_request(request))
        except GatekeeperError as exc:
            self.message_user(request, str(exc), messages.WARNING)
        else:
            self.message_user(
                request,
                f"Revoked {credential} of {client}: it stopped working now.",
                messages.SUCCESS,
            )
        return self._back(client)

    def secret_view(self, request: HttpRequest, token: str) -> HttpResponse:
        """The secrets behind `token`, exactly once; afterwards "already shown"."""
        shown = reveal.take(token, user_id=request.user.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "New secrets" if shown else "Already shown",
            "issued": shown or [],
            "grace": format_duration(_rotation_grace()),
        }
        response = TemplateResponse(
            request, "admin/clients/secret_once.html", context, status=200 if shown else 410
        )
        response["Cache-Control"] = "no-store"
        return response

    def save_model(self, request: HttpRequest, obj: Client, form: object, change: bool) -> None:
        actor = Actor.from_request(request)
        if not change:
            services.create_client(
                name=obj.name,
                status=obj.status,
                description=obj.description,
                client_id=obj.id,
                actor=actor,
            )
            # The service saved a row with this instance's id; the admin keeps using `obj`.
            obj.refresh_from_db()
            obj._state.adding = False
            return
        # The form already wrote the new values onto `obj`: compare against the stored row.
        stored = Client.objects.get(pk=obj.pk)
        services.update_client(stored, actor=actor, name=obj.name, description=obj.description)
        services.set_client_status(stored, obj.status, actor=actor)

    def delete_model(self, request: HttpRequest, obj: Client) -> None:
        services.delete_client(obj, actor=Actor.from_request(request))

    def get_deleted_objects(self, objs: object, request: HttpRequest) -> tuple:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Credentials cannot be deleted on their own (only revoked), but they go with their
        # client: delete_client removes and audits them.
        perms_needed.discard(Credential._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        actor = Actor.from_request(request)
        with transaction.atomic():
            for client in queryset:
                services.delete_client(client, actor=actor)

    def _show_once(
        self,
        request: HttpRequest,
        queryset: QuerySet[Client],
        title: str,
        issue: Callable[[Client, Actor], services.IssuedSecret],
    ) -> HttpResponse | None:
        actor = Actor.from_request(request)
        try:
            # All or nothing: a secret issued but never shown would be a dead credential.
            with transaction.atomic():
                issued = [issue(client, actor) for client in queryset]
        except (ValidationError, GatekeeperError) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return None
        return self._redirect_to_secrets(request, issued)

    def _redirect_to_secrets(
        self, request: HttpRequest, issued: list[services.IssuedSecret]
    ) -> HttpResponseRedirect:
        token = reveal.stash(issued, user_id=request.user.pk)
        return HttpResponseRedirect(reverse("admin:clients_client_secret", args=[token]))

    @admin.action(description="Issue API key", permissions=["issue"])
    def issue_api_key(
        self, request: HttpRequest, queryset: QuerySet[Client]
    ) -> TemplateResponse | None:
        return self._show_once(
            request,
            queryset,
            "New API keys",
            lambda client, actor: services.issue_api_key(client, actor=actor),
        )

    @admin.action(description="Issue HMAC secret", permissions=["issue"])
    def issue_hmac_secret(
        self, request: HttpRequest, queryset: QuerySet[Client]
    ) -> TemplateResponse | None:
        return self._show_once(
            request,
            queryset,
            "New HMAC secrets",
            lambda client, actor: services.issue_hmac_secret(client, actor=actor),
        )

    # The description is lazy so the grace setting is read when the page renders, not at import.
    @admin.action(description=lazy(_rotate_description, str)(), permissions=["rotate"])
    def rotate_api_keys(
        self, request: HttpRequest, queryset: QuerySet[Client]
    ) -> TemplateResponse | None:
        grace = _rotation_grace()
        return self._show_once(
            request,
            queryset,
            "Rotated API keys",
            lambda client, actor: services.rotate_credentials(
                client, kind=Credential.Kind.API_KEY, grace=grace, actor=actor
            ),
        )

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Client], status: str) -> None:
        actor = Actor.from_request(request)
        with transaction.atomic():
            for client in queryset:
                services.set_client_status(client, status, actor=actor)
        self.message_user(request, f"{len(queryset)} client(s) are now {status}.")

    @admin.action(description="Suspend", permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        self._set_status(request, queryset, Client.Status.SUSPENDED)

    @admin.action(description="Reactivate", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        self._set_status(request, queryset, Client.Status.ACTIVE)


class CredentialStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("live", "Live"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "live":
            return queryset.live(now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Read-only list of every credential; the one write is the Revoke action."""

    list_display = ["client", *(f for f in Credential.SHOWN_FIELDS if f != "created_at")]
    list_filter = ["kind", CredentialStateFilter]
    search_fields = ["prefix", "label", "client__name"]
    list_select_related = ["client"]
    fields = readonly_fields = ["client", *Credential.SHOWN_FIELDS]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_credential")

    @admin.action(description="Revoke", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        actor = Actor.from_request(request)
        revoked = skipped = 0
        for credential in queryset:
            try:
                services.revoke_credential(credential, actor=actor)
            except Conflict:
                skipped += 1
            else:
                revoked += 1
        note = f"; {skipped} already revoked" if skipped else ""
        self.message_user(request, f"Revoked {revoked} credential(s){note}.")
