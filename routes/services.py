"""Every write to routes and their method rules: atomic, validated, audited (style rule 3).

Bad input raises Django's ValidationError with a field dict (`domain`, `pattern`, `methods`,
or `__all__` for a duplicate route), so the admin shows field errors and commands print one
line. A missing route raises NotFound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import record
from core.actor import Actor
from core.errors import NotFound
from core.redaction import quote, quote_short
from routes import patterns
from routes.models import Auth, Route, RouteMethod
from routes.signals import route_methods_removed

# The fields that create_route and update_route take (the admin's route form shows these).
ROUTE_FIELDS = ("domain", "pattern", "service_name", "description")


def _method_rules(methods: Mapping[str, str]) -> dict[str, str]:
    """Validate a {method: auth} mapping; return it upper-cased, in canonical method order.

    Method and auth names are accepted in any case. An empty mapping is valid: a route
    without methods denies every request. Raises ValidationError({"methods": [...]}).
    """
    problems: list[str] = []
    rules: dict[str, str] = {}
    for method, auth in methods.items():
        try:
            (name,) = patterns.normalize_methods([method])
        except patterns.PatternError as exc:
            problems.append(str(exc))
            continue
        level = auth.lower() if isinstance(auth, str) else auth
        if level not in Auth.values:
            problems.append(
                f"{name}: {quote_short(auth)} is not an auth requirement; "
                f"use {', '.join(Auth.values)}."
            )
            continue
        if name in rules:
            problems.append(f"{name} is given twice.")
            continue
        rules[name] = level
    if problems:
        raise ValidationError({"methods": problems})
    return {name: rules[name] for name in patterns.METHODS if name in rules}


@transaction.atomic
def create_route(
    *,
    domain: str,
    pattern: str,
    service_name: str = "",
    description: str = "",
    methods: Mapping[str, str] | None = None,
    actor: Actor,
) -> Route:
    """Create a route and its method rules; the domain is stored normalised."""
    route = Route(
        domain=domain, pattern=pattern, service_name=service_name, description=description
    )
    errors: dict[str, Any] = {}
    try:
        route.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        rules = _method_rules(methods or {})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    route.save()
    for method, auth in rules.items():
        RouteMethod.objects.create(route=route, method=method, auth=auth)
    record(actor, "route.created", route, detail={**_describe(route), "methods": rules})
    return route


@transaction.atomic
def update_route(
    route: Route,
    *,
    actor: Actor,
    domain: str | None = None,
    pattern: str | None = None,
    service_name: str | None = None,
    description: str | None = None,
) -> Route:
    """Change the given fields; return the route as saved (re-read under a row lock).

    Nothing is saved or audited when the values, once normalised, equal the stored ones.
    """
    current = _locked(route)
    before = {field: getattr(current, field) for field in ROUTE_FIELDS}
    given = {
        "domain": domain,
        "pattern": pattern,
        "service_name": service_name,
        "description": description,
    }
    for field, value in given.items():
        if value is not None:
            setattr(current, field, value)
    current.full_clean()
    changed = {
        field: [old, getattr(current, field)]
        for field, old in before.items()
        if getattr(current, field) != old
    }
    if not changed:
        return current
    current.save(update_fields=[*changed, "updated_at"])
    record(actor, "route.updated", current, detail={**_describe(current), "changed": changed})
    return current


@transaction.atomic
def set_route_methods(route: Route, methods: Mapping[str, str], *, actor: Actor) -> None:
    """Make the route's method rules exactly `methods` ({method: auth}).

    When methods disappear, `routes.signals.route_methods_removed` is sent inside this
    transaction so that permissions on the route can drop them too.
    """
    rules = _method_rules(methods)
    current = _locked(route)
    existing = {rule.method: rule for rule in RouteMethod.objects.filter(route=current)}
    before = {name: existing[name].auth for name in patterns.METHODS if name in existing}
    if before == rules:
        return
    removed = tuple(name for name in before if name not in rules)
    # Row by row, not bulk: each save and delete bumps the config version via its signal.
    for name in removed:
        existing[name].delete()
    for name, auth in rules.items():
        rule = existing.get(name)
        if rule is None:
            RouteMethod.objects.create(route=current, method=name, auth=auth)
        elif rule.auth != auth:
            rule.auth = auth
            rule.save(update_fields=["auth"])
    if removed:
        route_methods_removed.send(sender=Route, route=current, removed=removed, actor=actor)
    changed = {
        name: [before.get(name), rules.get(name)]
        for name in patterns.METHODS
        if before.get(name) != rules.get(name)
    }
    record(
        actor,
        "route.methods_set",
        current,
        detail={**_describe(current), "methods": rules, "changed": changed},
    )


@transaction.atomic
def delete_route(route: Route, *, actor: Actor) -> None:
    """Delete a route with its method rules, and the permissions and rate limits on it."""
    current = _locked(route)
    detail = {**_describe(current), "methods": current.method_rules()}
    route_id, label = current.pk, str(current)
    _, deleted = current.delete()
    # What went with it (permissions, rate limits), so the trail shows the cost of a delete.
    detail["cascade"] = {
        model: count for model, count in deleted.items() if model != Route._meta.label and count
    }
    record(
        actor,
        "route.deleted",
        detail=detail,
        object_type=Route._meta.label_lower,
        object_id=str(route_id),
        object_repr=label,
    )


def get_route(domain: str, pattern: str) -> Route:
    """The route with this domain (compared normalised) and exact pattern, or NotFound."""
    missing = NotFound(f"no route {quote(f'{domain}{pattern}')}")
    try:
        normalized = patterns.normalize_domain(domain)
    except patterns.PatternError:
        raise missing from None
    route = Route.objects.filter(domain=normalized, pattern=pattern).first()
    if route is None:
        raise missing
    return route


def _locked(route: Route) -> Route:
    """A fresh copy of the route, row-locked until the transaction ends, or NotFound."""
    current = Route.objects.select_for_update().filter(pk=route.pk).first()
    if current is None:
        raise NotFound(f"no route {route}")
    return current


def _describe(route: Route) -> dict[str, str]:
    return {"domain": route.domain, "pattern": route.pattern}
