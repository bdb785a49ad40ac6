"""The client page: everything about one client in one place (issue 13).

`clients.admin.ClientAdmin` edits the client and issues, rotates and revokes its
credentials; it may not import permissions, rate limits' counters or the decision trail, so
this subclass, registered in its place, adds them: credentials with their buttons, the
permissions (grant several routes and methods at once), rate limits with their current
usage, and the latest decisions. Writes go through the services.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.models import DecisionRecord
from authz.limit_usage import limit_usage
from clients.admin import ClientAdmin, IssueForm
from clients.models import Client, Credential
from core.actor import Actor
from core.commands import validation_message
from core.errors import GatekeeperError
from dashboard.admin.page import ObjectPage
from dashboard.forms import GrantForm
from permissions import services as permissions
from permissions.models import Permission
from routes.models import Auth, Route

LATEST = 10


def decisions_url(**query: str) -> str:
    return f"{reverse('admin:audit_decisionrecord_changelist')}?{urlencode(query)}"


def tester_url(**query: str) -> str:
    return f"{reverse('dashboard:tester')}?{urlencode(query)}"


def route_choices() -> list[tuple[int, str]]:
    return [
        (pk, f"{domain}{pattern}")
        for pk, domain, pattern in Route.objects.values_list("id", "domain", "pattern")
    ]


admin.site.unregister(Client)


@admin.register(Client)
class ClientPage(ObjectPage, ClientAdmin):
    change_form_template = "admin/clients/client/client_page.html"

    def page_context(self, request: HttpRequest, client: Client) -> dict[str, Any]:
        now = timezone.now()
        credentials = list(client.credentials.order_by("-created_at"))
        return {
            "title": f"Client {client.name}",
            "client_page": True,
            "credentials": [(c, c.state(now)) for c in credentials],
            "issue_form": IssueForm(),
            "permissions": list(client.permissions.select_related("route").order_by("route")),
            "grant_form": GrantForm(route_choices=route_choices()),
            "limits": limit_usage(client.rate_limits.select_related("route")),
            "decisions": list(
                DecisionRecord.objects.filter(client_id=client.pk).order_by("-time", "-id")[:LATEST]
            ),
            "decisions_url": decisions_url(client=str(client.pk)),
            "tester_url": tester_url(client=str(client.pk)),
            "can_issue": self.has_issue_permission(request),
            "can_rotate": self.has_rotate_permission(request),
            "can_revoke": self.has_revoke_permission(request),
            "can_grant": can_grant(request),
        }


def can_grant(request: HttpRequest) -> bool:
    return request.user.has_perms(["permissions.add_permission", "permissions.change_permission"])


def _grant(client: Client, route: Route, methods: tuple[str, ...], *, actor: Actor) -> Permission:
    """Add `methods` to what the client holds on `route` (the one call of this action)."""
    held = Permission.objects.filter(client=client, route=route).first()
    current = set(held.method_list) if held else set()
    return permissions.grant(client, route, sorted(current | set(methods)), actor=actor)


@require_POST
def grant_view(request: HttpRequest, client_id: object) -> HttpResponse:
    """Grant the chosen methods on each chosen route, all or nothing, and say what happened:
    methods a route does not configure are skipped (and named), and a method whose rule asks
    for an API key is a warning for a client that holds only HMAC secrets."""
    if not can_grant(request):
        raise PermissionDenied
    client = get_object_or_404(Client, pk=client_id)
    back = HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))
    form = GrantForm(request.POST, route_choices=route_choices())
    if not form.is_valid():
        messages.error(request, "Choose at least one route and one method to grant.")
        return back
    chosen = tuple(form.cleaned_data["methods"])
    routes = list(
        Route.objects.filter(pk__in=form.cleaned_data["routes"]).prefetch_related("methods")
    )
    now = timezone.now()
    live = Credential.objects.live(now).filter(client=client)
    hmac_only = (
        live.filter(kind=Credential.Kind.HMAC).exists()
        and not live.filter(kind=Credential.Kind.API_KEY).exists()
    )
    actor = Actor.from_request(request)
    granted, skipped, warnings = [], [], []
    try:
        with transaction.atomic():
            for route in routes:
                rules = route.method_rules()
                methods = tuple(m for m in chosen if m in rules)
                missing = [m for m in chosen if m not in rules]
                if missing:
                    skipped.append(f"{', '.join(missing)} on {route} (not configured there)")
                if not methods:
                    continue
                _grant(client, route, methods, actor=actor)
                granted.append(f"{', '.join(methods)} on {route}")
                if hmac_only:
                    warnings.extend(
                        f"{m} on {route} asks for an API key"
                        for m in methods
                        if rules[m] == Auth.API_KEY
                    )
    except (ValidationError, GatekeeperError) as exc:
        text = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, f"Nothing was granted: {text}")
        return back
    if granted:
        messages.success(request, f"Granted {client}: {'; '.join(granted)}.")
    if skipped:
        messages.info(request, f"Not granted: {'; '.join(skipped)}.")
    if warnings:
        messages.warning(
            request,
            f"{client} holds only HMAC secrets, so it cannot use these yet: {'; '.join(warnings)}. "
            "Issue it an API key, or change the method rule to hmac or any.",
        )
    return back
