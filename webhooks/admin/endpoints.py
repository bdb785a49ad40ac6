"""Webhook endpoints in the admin. Every write goes through `webhooks.services`.

Adding an endpoint and rotating its secret redirect to a page that shows the new signing
secret exactly once (`clients.reveal`, not cached); afterwards only its existence is known.
The change page says whether the endpoint is disabled and why, lists its latest deliveries,
and has the buttons: rotate the secret, send a test webhook, enable or disable.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from clients import reveal
from core.actor import Actor
from core.commands import validation_message
from core.durations import format_duration
from core.errors import GatekeeperError
from webhooks import services
from webhooks.admin.forms import EndpointForm
from webhooks.destinations import display_url
from webhooks.models import Delivery, Endpoint

LATEST = 20


def _rotation_grace() -> timedelta:
    return timedelta(seconds=settings.GATEKEEPER_ROTATION_GRACE)


def _error_text(exc: Exception) -> str:
    return validation_message(exc) if isinstance(exc, ValidationError) else str(exc)


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    change_form_template = "admin/webhooks/endpoint/change_form.html"
    list_display = ["name", "shown_url", "state", "event_count", "cooldown_seconds", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url", "description"]
    actions = ["send_test", "disable", "enable"]
    readonly_fields = ["state", "failing_since", "created_at", "updated_at"]

    def get_fieldsets(self, request: HttpRequest, obj: Endpoint | None = None) -> list:
        main = ["name", "url", "description", "events", "client_ids", "cooldown_seconds"]
        if obj is None:
            return [(None, {"fields": main})]
        return [(None, {"fields": main}), ("State", {"fields": self.readonly_fields})]

    @admin.display(description="URL", ordering="url")
    def shown_url(self, obj: Endpoint) -> str:
        return display_url(obj.url)

    @admin.display(description="State", ordering="active")
    def state(self, obj: Endpoint) -> str:
        if not obj.active:
            return format_html(
                '<span class="gk-bad">disabled</span> {}: {}',
                f"{obj.disabled_at:%Y-%m-%d %H:%M}",
                obj.disabled_reason,
            )
        if obj.failing_since is not None:
            return format_html(
                '<span class="gk-bad">failing</span> since {}',
                f"{obj.failing_since:%Y-%m-%d %H:%M}",
            )
        return format_html('<span class="gk-ok">{}</span>', "active")

    @admin.display(description="Events")
    def event_count(self, obj: Endpoint) -> int:
        return len(obj.events)

    # --- writes, through the services -------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Endpoint, form: EndpointForm, change: bool):
        actor = Actor.from_request(request)
        if change:
            services.update_endpoint(obj, actor=actor, **form.settable())
            return
        created = services.create_endpoint(**form.settable(), actor=actor)
        obj.pk = created.endpoint.pk
        obj._state.adding = False
        request._webhook_secret_token = self._keep(request, created)  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: Endpoint, post_url_continue=None):
        token = getattr(request, "_webhook_secret_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(reverse("admin:webhooks_endpoint_secret", args=[token]))

    def delete_model(self, request: HttpRequest, obj: Endpoint) -> None:
        services.delete_endpoint(obj, actor=Actor.from_request(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        actor = Actor.from_request(request)
        for endpoint in queryset:
            services.delete_endpoint(endpoint, actor=actor)

    def _keep(self, request: HttpRequest, created: services.EndpointSecret) -> str:
        payload = {"endpoint": created.endpoint.pk, "plaintext": created.plaintext}
        return reveal.keep(payload, user_id=request.user.pk)

    # --- the change page ------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        endpoint = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if endpoint is not None:
            extra.update(
                deliveries=Delivery.objects.filter(endpoint=endpoint)
                .select_related("event")
                .order_by("-queued_at", "-id")[:LATEST],
                log_url=reverse("admin:webhooks_delivery_changelist")
                + f"?endpoint__id__exact={endpoint.pk}",
                can_change=self.has_change_permission(request, endpoint),
                grace=format_duration(_rotation_grace()),
            )
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [
            path("secret/<str:token>/", wrap(self.secret_view), name="webhooks_endpoint_secret"),
            path(
                "<path:object_id>/rotate-secret/",
                wrap(require_POST(self.rotate_view)),
                name="webhooks_endpoint_rotate",
            ),
            path(
                "<path:object_id>/test/",
                wrap(require_POST(self.test_view)),
                name="webhooks_endpoint_test",
            ),
            path(
                "<path:object_id>/state/",
                wrap(require_POST(self.state_view)),
                name="webhooks_endpoint_state",
            ),
        ]
        return own + super().get_urls()

    def _endpoint_or_404(self, request: HttpRequest, object_id: str) -> Endpoint:
        if not self.has_change_permission(request):
            raise PermissionDenied
        endpoint = self.get_object(request, object_id)
        if endpoint is None:
            raise Http404("No such endpoint.")
        return endpoint

    def _back(self, endpoint: Endpoint) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint_or_404(request, object_id)
        try:
            rotated = services.rotate_secret(
                endpoint, grace=_rotation_grace(), actor=Actor.from_request(request)
            )
        except (ValidationError, GatekeeperError) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return self._back(endpoint)
        token = self._keep(request, rotated)
        return HttpResponseRedirect(reverse("admin:webhooks_endpoint_secret", args=[token]))

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint_or_404(request, object_id)
        self._send_tests(request, [endpoint])
        return self._back(endpoint)

    def state_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint_or_404(request, object_id)
        if request.POST.get("active") == "1":
            self.enable(request, Endpoint.objects.filter(pk=endpoint.pk))
        else:
            self.disable(request, Endpoint.objects.filter(pk=endpoint.pk))
        return self._back(endpoint)

    def secret_view(self, request: HttpRequest, token: str) -> HttpResponse:
        """The signing secret behind `token`, exactly once; afterwards "already shown"."""
        kept = reveal.take_kept(token, user_id=request.user.pk)
        endpoint = Endpoint.objects.filter(pk=kept["endpoint"]).first() if kept else None
        shown = endpoint is not None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "New signing secret" if shown else "Already shown",
            "endpoint": endpoint,
            "secret": kept["plaintext"] if shown else None,
            "grace": format_duration(_rotation_grace()),
        }
        response = TemplateResponse(
            request,
            "admin/webhooks/endpoint/secret_once.html",
            context,
            status=200 if shown else 410,
        )
        response["Cache-Control"] = "no-store"
        return response

    # --- list actions ---------------------------------------------------------------------

    def _send_tests(self, request: HttpRequest, endpoints: list[Endpoint]) -> None:
        actor = Actor.from_request(request)
        queued = []
        for endpoint in endpoints:
            try:
                services.send_test(endpoint, actor=actor)
            except GatekeeperError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                queued.append(endpoint.name)
        if queued:
            self.message_user(
                request,
                f"A test webhook is queued for {', '.join(queued)}; the worker sends it within "
                "seconds (see the delivery log).",
                messages.SUCCESS,
            )

    @admin.action(description="Send a test webhook", permissions=["change"])
    def send_test(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        self._send_tests(request, list(queryset))

    @admin.action(description="Disable", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        actor = Actor.from_request(request)
        reason = f"Disabled by {request.user.get_username()}."
        for endpoint in queryset:
            services.disable_endpoint(endpoint, reason=reason, actor=actor)
        self.message_user(request, f"{len(queryset)} endpoint(s) disabled.")

    @admin.action(description="Enable (resumes waiting deliveries)", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        actor = Actor.from_request(request)
        for endpoint in queryset:
            services.enable_endpoint(endpoint, actor=actor)
        self.message_user(request, f"{len(queryset)} endpoint(s) enabled.")
