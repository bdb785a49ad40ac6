"""Every write to routes and their method rules: atomic, validated, audited (style rule 3).

Bad input raises Django's ValidationError with a field dict (`domain`, `pattern`, `methods`,
or `__all__` for a duplicate route), so the admin shows field errors and commands print one
line. A missing route raises NotFound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import event, record, record_many
from core import config_version
from core.actor import Actor
from core.batches import BULK_BATCH, Batch
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


@dataclass(frozen=True)
class NewRoute:
    domain: str
    pattern: str
    service_name: str = ""
    description: str = ""
    methods: Mapping[str, str] = dataclasses.field(default_factory=dict)


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
    new = NewRoute(domain, pattern, service_name, description, methods or {})
    return create_routes([new], actor=actor).one()


@transaction.atomic
def create_routes(items: Sequence[NewRoute], *, actor: Actor) -> Batch[Route]:
    """Create many routes at once (the config file's bulk path): each checked as
    `create_route` checks one, also against the others of the batch; the valid ones written
    in a few statements with one audit row each."""
    batch: Batch[Route] = Batch()
    candidates = [
        Route(
            domain=item.domain,
            pattern=item.pattern,
            service_name=item.service_name,
            description=item.description,
        )
        for item in items
    ]
    taken = _routes_with_paths(candidates)
    valid: list[tuple[int, Route, dict[str, str]]] = []
    for index, (item, route) in enumerate(zip(items, candidates, strict=True)):
        errors: dict[str, Any] = {}
        try:
            route.clean_fields()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if "domain" not in errors and "pattern" not in errors:
            try:
                route.clean_paths(lambda r=route: taken.get(_paths(r)))
            except ValidationError as exc:
                errors.update(exc.message_dict)
        try:
            rules = _method_rules(item.methods)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            batch.errors[index] = ValidationError(errors)
            continue
        # Later items of the batch see this one as taken.
        taken[_paths(route)] = route
        valid.append((index, route, rules))
    Route.objects.bulk_create([route for _, route, _ in valid], batch_size=BULK_BATCH)
    RouteMethod.objects.bulk_create(
        [
            RouteMethod(route=route, method=method, auth=auth)
            for _, route, rules in valid
            for method, auth in rules.items()
        ],
        batch_size=BULK_BATCH,
    )
    record_many(
        [
            event(actor, "route.created", route, detail={**_describe(route), "methods": rules})
            for _, route, rules in valid
        ]
    )
    if valid:
        # bulk_create sends no signals: the decision processes learn of the routes here.
        config_version.bump(routes=True)
    batch.done.update((index, route) for index, route, _ in valid)
    return batch


def _paths(route: Route) -> tuple[str, str]:
    return (route.domain, route.canonical_pattern)


def _routes_with_paths(candidates: Sequence[Route]) -> dict[tuple[str, str], Route]:
    """The stored routes that candidates might match the same paths as, by (domain, canonical
    pattern): one query for any number of candidates."""
    domains, canonicals = set(), set()
    for route in candidates:
        try:
            domains.add(patterns.normalize_domain(route.domain))
        except patterns.PatternError:
            continue
        canonicals.add(patterns.canonical_pattern(route.pattern))
    stored = Route.objects.filter(domain__in=domains, canonical_pattern__in=canonicals)
    return {_paths(route): route for route in stored}


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
