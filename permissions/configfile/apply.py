"""Carrying out a config file's plan through the services, all or nothing (design §8).

Every change goes through the service that owns it, which checks it against the rules and
writes its audit row; creates go through the services' bulk forms (`create_routes`, ...), a
few statements for thousands of objects. A change a service refuses is reported at its place
in the file (`clients[3].permissions[0].methods: PATCH is not configured on route ...`) and
the run goes on, so that every problem is found in one round; then nothing is kept. Planning
and applying run in one transaction: when anything fails, nothing the file asked for is left
behind, and no generated secret is handed out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.actions import CONFIG_APPLIED
from audit.services import record
from clients import services as clients
from clients.models import Client
from core.actor import Actor
from core.batches import Batch
from core.errors import GatekeeperError
from core.serializers import django_errors, located
from permissions import services as permissions
from permissions.configfile.plan import Change, Noun, Op, Plan, build_plan
from permissions.configfile.spec import (
    ClientSpec,
    Config,
    ConfigError,
    CredentialSpec,
    Issue,
    RouteKey,
    RouteSpec,
)
from routes import services as routes
from routes.models import Route

# The services name a route's service `service_name`; the file names it `service`.
_FILE_NAMES = {"service_name": "service"}
# The order of a file's sections and fields, for listing problems in file order.
_ORDER = {
    name: rank
    for rank, name in enumerate(
        ("routes", "clients", "name", "id", "status", "description", "credentials",
         "rate_limits", "permissions")
    )
}  # fmt: skip
_PART = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")

Progress = Callable[[int, int], None]


class ApplyError(GatekeeperError):
    """A change failed in the database itself (a concurrent write); everything rolled back."""


@dataclass(frozen=True)
class GeneratedSecret:
    """A credential the file asked to generate, with its plaintext to show once."""

    client: str
    client_id: uuid.UUID
    kind: str
    label: str
    plaintext: str = field(repr=False)


@dataclass(frozen=True)
class Applied:
    plan: Plan
    generated: tuple[GeneratedSecret, ...]
    # `<location>: <warning>` for the operator, e.g. an imported key short enough to guess.
    warnings: tuple[str, ...] = ()


@transaction.atomic
def apply_config(
    config: Config,
    issues: list[Issue],
    *,
    prune: bool,
    actor: Actor,
    progress: Progress | None = None,
) -> Applied:
    """Make the database match `config` (see plan.py for what matches what).

    Raises ConfigError listing `issues` and every problem found against the database (nothing
    was kept), or ApplyError when the database refused a write (a concurrent change; nothing
    was kept either). Two applies at once: the unique constraints reject whichever loses.
    """
    shape = len(issues)
    plan = build_plan(config, issues, prune=prune)
    applier = _Applier(plan, actor, progress)
    try:
        applier.run()
    except IntegrityError as exc:
        # The first line names the constraint; PostgreSQL's DETAIL line would quote values.
        message = str(exc).splitlines()[0]
        raise ApplyError(f"{message}. Nothing was changed.") from exc
    # The file's own problems first, as found; then those against the database, in file order.
    found = sorted([*issues[shape:], *applier.issues], key=lambda i: _file_order(i.location))
    problems = [*issues[:shape], *found]
    if problems:
        raise ConfigError(problems)
    if plan.changes:
        # One row for the whole apply, beside each change's own (webhooks: config.applied).
        counts = {f"{op.name.lower()}d": plan.count(op) for op in Op}
        record(actor, CONFIG_APPLIED, detail={**counts, "unchanged": plan.unchanged})
    return Applied(plan, tuple(applier.generated), tuple(applier.warnings))


class _Rollback(Exception):
    """Raised to undo a check's writes."""


def check_config(config: Config, issues: list[Issue], *, prune: bool, actor: Actor) -> Plan:
    """Apply `config` in a transaction that is always rolled back: the plan, or ConfigError
    with every problem the real apply would meet. Nothing is kept, no secret is handed out."""
    try:
        with transaction.atomic():
            applied = apply_config(config, issues, prune=prune, actor=actor)
            raise _Rollback
    except _Rollback:
        return applied.plan


def _file_order(location: str) -> tuple[tuple[int, int], ...]:
    return tuple(
        (0, _ORDER.get(name, len(_ORDER))) if name else (1, int(index))
        for name, index in _PART.findall(location)
    )


def _problems(location: str, exc: Exception) -> Iterable[Issue]:
    """A service's refusal as issues at `location` (and below it, per field)."""
    if isinstance(exc, ValidationError):
        detail = django_errors(exc)
        if isinstance(detail, dict):
            detail = {_FILE_NAMES.get(name, name): errors for name, errors in detail.items()}
        return (Issue(where, message) for where, message in located(detail, location))
    return (Issue(location, str(exc)),)


class _Applier:
    def __init__(self, plan: Plan, actor: Actor, progress: Progress | None) -> None:
        self.plan = plan
        self.actor = actor
        self.progress = progress
        self.routes: dict[RouteKey, Route] = dict(plan.routes)
        self.clients: dict[str, Client] = dict(plan.clients)
        self.generated: list[GeneratedSecret] = []
        self.warnings: list[str] = []
        self.issues: list[Issue] = []
        self.gone: set[int] = set()  # routes deleted by --prune
        self.done = 0

    def refused(self, change: Change, exc: Exception) -> None:
        self.issues.extend(_problems(change.location or str(change), exc))

    def step(self, count: int = 1) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, len(self.plan.changes))

    def run(self) -> None:
        deletions = [c for c in self.plan.changes if c.op is Op.DELETE]
        for change in deletions:
            self.one(change, self.delete)
        for noun in Noun:
            updates = [c for c in self.plan.changes if c.noun is noun and c.op is Op.UPDATE]
            for change in updates:
                self.one(change, self.update)
            creates = [c for c in self.plan.changes if c.noun is noun and c.op is Op.CREATE]
            if creates:
                self.create(noun, creates)

    def one(self, change: Change, action: Callable[[Change], None]) -> None:
        try:
            action(change)
        except (ValidationError, GatekeeperError) as exc:
            self.refused(change, exc)
        self.step()

    # Deletes and updates, one change at a time -----------------------------------------------

    def delete(self, change: Change) -> None:
        target: Any = change.target
        if change.noun is Noun.ROUTE:
            routes.delete_route(target, actor=self.actor)
            self.gone.add(target.pk)
        elif change.noun is Noun.CLIENT:
            clients.delete_client(target, actor=self.actor)
        elif change.noun is Noun.PERMISSION:
            permissions.revoke(target.client, target.route, actor=self.actor)
        elif change.noun is Noun.CREDENTIAL:
            # Revoked, not deleted: the row stays so the audit trail can still name it.
            clients.revoke_credential(target, actor=self.actor)
        else:
            permissions.remove_rate_limit(target, actor=self.actor)

    def update(self, change: Change) -> None:
        spec: Any = change.spec
        target: Any = change.target
        if change.noun is Noun.ROUTE:
            route = target
            if "service" in change.fields or "description" in change.fields:
                route = routes.update_route(
                    route, service_name=spec.service, description=spec.description, actor=self.actor
                )
            if "methods" in change.fields:
                routes.set_route_methods(route, spec.method_map, actor=self.actor)
            self.routes[spec.key] = route
        elif change.noun is Noun.CLIENT:
            client = target
            if "name" in change.fields or "description" in change.fields:
                client = clients.update_client(
                    client, name=spec.name, description=spec.description, actor=self.actor
                )
            if "status" in change.fields:
                client = clients.set_client_status(client, spec.status, actor=self.actor)
            self.clients[spec.location] = client
        elif change.noun is Noun.PERMISSION:
            # The file is declarative: a permission holds exactly the methods it lists.
            permissions.grant(
                target.client, target.route, spec.methods, actor=self.actor, exactly=True
            )
        else:
            permissions.set_rate_limit(
                target.client,
                limit=spec.limit,
                window=spec.window,
                route=target.route,
                actor=self.actor,
            )

    # Creates, in batches ----------------------------------------------------------------------

    def create(self, noun: Noun, changes: list[Change]) -> None:
        # A change whose client or route was refused is left out: that refusal is reported.
        ready = [(c, item) for c in changes if (item := self.item(noun, c)) is not None]
        batch = self.bulk(noun, [item for _, item in ready])
        for index, (change, _) in enumerate(ready):
            if index in batch.errors:
                self.refused(change, batch.errors[index])
            else:
                self.created(noun, change, batch.done[index])
        self.step(len(changes))

    def item(self, noun: Noun, change: Change) -> Any:
        spec: Any = change.spec
        if noun is Noun.ROUTE:
            return routes.NewRoute(
                spec.domain, spec.pattern, spec.service, spec.description, spec.method_map
            )
        if noun is Noun.CLIENT:
            return clients.NewClient(spec.name, spec.status, spec.description, spec.id)
        client = self.clients.get(change.owner)
        if client is None:
            return None
        if noun is Noun.CREDENTIAL:
            return clients.NewCredential(client, spec.kind, spec.label, None, spec.value)
        route = self.routes.get(spec.route) if spec.route is not None else None
        if spec.route is not None and (route is None or route.pk in self.gone):
            return None
        if noun is Noun.PERMISSION:
            return permissions.NewGrant(client, route, spec.methods)
        return permissions.NewRateLimit(client, spec.limit, spec.window, route)

    def bulk(self, noun: Noun, items: list[Any]) -> Batch[Any]:
        if noun is Noun.ROUTE:
            return routes.create_routes(items, actor=self.actor)
        if noun is Noun.CLIENT:
            return clients.create_clients(items, actor=self.actor)
        if noun is Noun.CREDENTIAL:
            return clients.issue_credentials(items, actor=self.actor)
        if noun is Noun.PERMISSION:
            return permissions.grant_many(items, actor=self.actor)
        return permissions.set_rate_limits(items, actor=self.actor)

    def created(self, noun: Noun, change: Change, result: Any) -> None:
        spec: Any = change.spec
        if noun is Noun.ROUTE:
            assert isinstance(spec, RouteSpec)
            self.routes[spec.key] = result
        elif noun is Noun.CLIENT:
            assert isinstance(spec, ClientSpec)
            self.clients[spec.location] = result
        elif noun is Noun.CREDENTIAL:
            assert isinstance(spec, CredentialSpec)
            self.warnings.extend(f"{spec.location}: {warning}" for warning in result.warnings)
            if spec.value is None:
                client = result.credential.client
                self.generated.append(
                    GeneratedSecret(client.name, client.pk, spec.kind, spec.label, result.plaintext)
                )
