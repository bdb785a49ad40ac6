"""Granting clients methods on routes, and limiting how often they call (style rule 3).

Every write is atomic and audited. A permission's methods are always a non-empty subset of its
route's configured methods: `grant` refuses others, and `narrow_route_permissions` (run when
methods disappear from a route) removes them from existing grants.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import record
from clients.models import Client
from core.actor import Actor
from core.errors import NotFound
from core.redaction import quote_short
from permissions.models import Permission, RateLimit
from routes import patterns
from routes.models import Route


def check_methods(route: Route, methods: Iterable[str], *, lock: bool = False) -> tuple[str, ...]:
    """Methods in canonical order, each configured on `route`; else ValidationError on "methods".

    `lock=True` (inside a transaction) locks the route's rows for those methods, so that
    `set_route_methods` cannot remove one between this check and the caller's commit: it
    would not see the uncommitted grant, and so could not narrow it.
    """
    wanted = _normalize(methods)
    rows = route.methods.filter(method__in=wanted)
    if lock:
        rows = rows.select_for_update(of=("self",))
    configured = set(rows.values_list("method", flat=True))
    missing = [m for m in wanted if m not in configured]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ValidationError(
            {"methods": f"{', '.join(missing)} {verb} not configured on route {route}"}
        )
    return wanted


def _normalize(methods: Iterable[str]) -> tuple[str, ...]:
    try:
        return patterns.normalize_methods(methods)
    except patterns.PatternError as exc:
        raise ValidationError({"methods": str(exc)}) from None


@transaction.atomic
def grant(
    client: Client,
    route: Route,
    methods: Iterable[str],
    *,
    actor: Actor,
    exactly: bool = False,
) -> Permission:
    """Allow `client` to call `route` with `methods` too, keeping what it holds there; with
    `exactly=True`, with `methods` only (what a declarative file and the admin form mean).

    A grant that changes nothing writes no audit row. (`revoke` takes methods away.)
    """
    asked = check_methods(route, methods, lock=True)
    permission = _locked_permission(client, route)
    previous = permission.method_list if permission else ()
    held = set(asked) if exactly else set(asked) | set(previous)
    wanted = tuple(m for m in patterns.METHODS if m in held)
    if previous == wanted:
        return permission
    if permission is None:
        # Two first grants racing here: the unique constraint rejects the second.
        permission = Permission(client=client, route=route)
    permission.methods = ",".join(wanted)
    permission.save()
    _audit(actor, "permission.granted", permission, previous=previous)
    return permission


@transaction.atomic
def revoke(
    client: Client, route: Route, *, actor: Actor, methods: Iterable[str] | None = None
) -> Permission | None:
    """Take `methods` (default: all) away from `client` on `route`.

    Returns the narrowed permission, or None when no method is left and it was deleted.
    Raises NotFound when the client has no permission there, and ValidationError when it
    does not hold one of `methods`.
    """
    permission = _locked_permission(client, route)
    if permission is None:
        raise NotFound(f"{client} has no permission on route {route}.")
    if methods is None:
        removed = permission.method_list
    else:
        removed = _normalize(methods)
        missing = [m for m in removed if m not in permission.method_list]
        if missing:
            raise ValidationError(
                {"methods": f"{client} is not granted {', '.join(missing)} on route {route}"}
            )
    return _remove_methods(permission, removed, actor=actor)


def _locked_permission(client: Client, route: Route) -> Permission | None:
    # of=("self",): lock the permission row, not the client and route rows its ordering joins.
    query = Permission.objects.select_for_update(of=("self",)).filter(client=client, route=route)
    return query.first()


@transaction.atomic
def narrow_route_permissions(route: Route, removed: Iterable[str], *, actor: Actor) -> int:
    """Remove `removed` methods from every permission on `route`; return how many changed.

    Called when methods disappear from a route, in the same transaction, so no grant keeps a
    method the route no longer has. A permission left with no method is deleted.
    """
    gone = frozenset(removed)
    changed = 0
    permissions = Permission.objects.select_for_update(of=("self",)).filter(route=route)
    for permission in permissions.select_related("client", "route"):
        if gone.intersection(permission.method_list):
            _remove_methods(permission, gone, actor=actor)
            changed += 1
    return changed


def _remove_methods(
    permission: Permission, removed: Iterable[str], *, actor: Actor
) -> Permission | None:
    previous = permission.method_list
    gone = frozenset(removed)
    remaining = tuple(m for m in previous if m not in gone)
    if remaining:
        permission.methods = ",".join(remaining)
        permission.save(update_fields=["methods", "updated_at"])
        _audit(actor, "permission.narrowed", permission, previous=previous)
        return permission
    _audit(actor, "permission.revoked", permission, previous=previous, methods=())
    permission.delete()
    return None


def _audit(
    actor: Actor,
    action: str,
    permission: Permission,
    *,
    previous: tuple[str, ...],
    methods: tuple[str, ...] | None = None,
) -> None:
    """One audit row; `methods` defaults to what the permission holds now."""
    record(
        actor,
        action,
        permission,
        detail={
            "client": permission.client.name,
            "route": str(permission.route),
            "methods": list(permission.method_list if methods is None else methods),
            "previous": list(previous),
        },
    )


def get_rate_limit(client: Client, *, window: str, route: Route | None = None) -> RateLimit:
    """The client's limit for `window` on `route` (None: the client-wide one); else NotFound."""
    try:
        return RateLimit.objects.select_related("client", "route").get(
            client=client, route=route, window=window
        )
    except RateLimit.DoesNotExist:
        scope = f"route {route}" if route else "all routes"
        raise NotFound(f"{client} has no per-{window} limit on {scope}.") from None


@transaction.atomic
def set_rate_limit(
    client: Client, *, limit: int, window: str, route: Route | None = None, actor: Actor
) -> RateLimit:
    """Create or update the client's limit for `window`, on `route` or (None) on all routes.

    Setting the limit it already has changes nothing and writes no audit row.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError({"limit": "The limit is a whole number of at least 1."})
    if window not in RateLimit.Window.values:
        raise ValidationError(
            {
                "window": f"{quote_short(window)} is not a window; "
                f"use {', '.join(RateLimit.Window.values)}."
            }
        )
    if route is not None and not Route.objects.filter(pk=route.pk).exists():
        raise NotFound(f"Route {route} does not exist.")
    rate_limit = (
        RateLimit.objects.select_for_update(of=("self",))
        .filter(client=client, route=route, window=window)
        .first()
    )
    previous = rate_limit.limit if rate_limit else None
    if previous == limit:
        return rate_limit
    if rate_limit is None:
        # Two first limits racing here: the partial unique constraints reject the second.
        rate_limit = RateLimit(client=client, route=route, window=window)
    rate_limit.limit = limit
    rate_limit.save()
    record(
        actor,
        "ratelimit.set",
        rate_limit,
        detail=_rate_limit_detail(rate_limit, limit=limit, previous=previous),
    )
    return rate_limit


@transaction.atomic
def remove_rate_limit(rate_limit: RateLimit, *, actor: Actor) -> None:
    record(
        actor,
        "ratelimit.removed",
        rate_limit,
        detail=_rate_limit_detail(rate_limit, limit=None, previous=rate_limit.limit),
    )
    rate_limit.delete()


def _rate_limit_detail(
    rate_limit: RateLimit, *, limit: int | None, previous: int | None
) -> dict[str, object]:
    return {
        "client": rate_limit.client.name,
        "route": str(rate_limit.route) if rate_limit.route_id else None,
        "limit": limit,
        "window": rate_limit.window,
        "previous": previous,
    }
