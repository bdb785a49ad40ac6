"""What applying a config file would change: the file compared with the database (design §8).

`build_plan` also reports the references the database cannot satisfy: a permission or rate
limit on a route that is neither in the file nor (without --prune) in the database, a client
name that belongs to another client id. It reads and never writes, and it is pure diffing: the
rules a change must follow (methods the route configures, routes that match the same paths,
keys in use) are the services' to check when apply.py carries the change out.

Identities: a route is its normalised domain and pattern; a client its id when the file gives
one, else its name (any case); a permission its (client, route); a rate limit its (client,
route or none, window); credentials as credentials.py matches them. With --prune, the
credentials a client entry lists are its whole set: every other live credential of that client
is revoked (kept as a revoked row, so the audit trail can name it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Model
from django.utils import timezone

from clients.models import Client, Credential
from permissions.configfile.credentials import LiveCredential, match_credentials
from permissions.configfile.spec import (
    ClientSpec,
    Config,
    CredentialSpec,
    Issue,
    PermissionSpec,
    RateLimitSpec,
    RouteKey,
    RouteSpec,
    route_label,
)
from permissions.models import Permission, RateLimit
from routes.models import Route, RouteMethod
from routes.patterns import METHODS

# A client entry that cannot be matched to one client (reported).
_REFUSED = object()

Spec = RouteSpec | ClientSpec | CredentialSpec | PermissionSpec | RateLimitSpec


class Op(StrEnum):
    CREATE = "+"
    UPDATE = "~"
    DELETE = "-"


class Noun(StrEnum):
    ROUTE = "route"
    CLIENT = "client"
    CREDENTIAL = "credential"
    PERMISSION = "permission"
    RATE_LIMIT = "rate limit"


@dataclass(frozen=True)
class Change:
    """One line of the plan; `apply.py` carries it out through a service."""

    op: Op
    noun: Noun
    subject: str
    detail: str = ""
    spec: Spec | None = None  # what the file says (creates and updates)
    target: Model | None = None  # the row to change or delete
    owner: str = ""  # location of the ClientSpec a credential/permission/limit belongs to
    fields: tuple[str, ...] = ()  # which fields an update changes

    @property
    def location(self) -> str:
        return self.spec.location if self.spec is not None else ""

    def __str__(self) -> str:
        line = f"{self.op} {self.noun} {self.subject}"
        if not self.detail:
            return line
        return f"{line}: {self.detail}" if self.op is Op.UPDATE else f"{line} ({self.detail})"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unchanged: int
    left_alone: int  # objects the file does not name, kept because --prune was not given
    routes: Mapping[RouteKey, Route]  # existing routes by identity
    clients: Mapping[str, Client]  # existing clients by the location of their ClientSpec

    def count(self, op: Op) -> int:
        return sum(1 for change in self.changes if change.op is op)


def build_plan(config: Config, issues: list[Issue], *, prune: bool) -> Plan:
    """Compare `config` with the database: the changes in the order they must be applied.
    References the database cannot satisfy are added to `issues`."""
    return _Planner(config, issues, prune=prune).plan()


def format_rules(rules: Mapping[str, str]) -> str:
    return ", ".join(f"{method}:{auth}" for method, auth in rules.items()) or "no methods"


def _show(value: str) -> str:
    if not value:
        return '""'
    flat = " ".join(value.split())
    return flat if len(flat) <= 40 else f"{flat[:37]}..."


def _key(route: Route) -> RouteKey:
    return (route.domain.lower(), route.pattern)


def _diff(name: str, old: Any, new: Any, show: Callable[[Any], str] = str) -> tuple[str, str]:
    """(name, "name old -> new"), or ("", "") when nothing changed."""
    return ("", "") if old == new else (name, f"{name} {show(old)} -> {show(new)}")


class _Planner:
    def __init__(self, config: Config, issues: list[Issue], *, prune: bool) -> None:
        self.config = config
        self.issues = issues
        self.prune = prune
        self.now = timezone.now()
        self.file_routes = {spec.key: spec for spec in config.routes}
        # Read in a few queries into plain dicts: per-row related managers cost tens of
        # microseconds each, seconds for a file of 10,000 clients (issue 12, item 5).
        rules: dict[int, dict[str, str]] = {}
        for route_id, method, auth in RouteMethod.objects.values_list("route_id", "method", "auth"):
            rules.setdefault(route_id, {})[method] = auth
        # No timestamps: parsing 100,000 of them is most of the cost of reading rows.
        routes = Route.objects.only("domain", "pattern", "service_name", "description")
        routes_by_id = {route.pk: route for route in routes}
        self.rules = {
            route_id: {m: found[m] for m in METHODS if m in found}
            for route_id, found in rules.items()
        }
        self.db_routes = {_key(route): route for route in routes_by_id.values()}
        self.db_clients = list(Client.objects.only("name", "status", "description"))
        clients_by_id = {client.pk: client for client in self.db_clients}
        self.credentials: dict[Any, list[LiveCredential]] = {}
        live = Credential.objects.live(self.now).order_by()
        for client_id, *row in live.values_list("client_id", *LiveCredential.columns()):
            self.credentials.setdefault(client_id, []).append(LiveCredential(*row))
        # Permissions as rows: a model instance is made only for one that changes.
        self.clients_by_id, self.routes_by_id = clients_by_id, routes_by_id
        self.permissions: dict[Any, list[tuple[int, int, str]]] = {}
        found = Permission.objects.order_by().values_list("id", "client_id", "route_id", "methods")
        for pk, client_id, route_id, methods in found:
            self.permissions.setdefault(client_id, []).append((pk, route_id, methods))
        self.rate_limits: dict[Any, list[RateLimit]] = {}
        for limit in RateLimit.objects.order_by().only("client", "route", "limit", "window"):
            limit.client = clients_by_id[limit.client_id]
            limit.route = routes_by_id.get(limit.route_id)
            self.rate_limits.setdefault(limit.client_id, []).append(limit)
        self.deletions: list[Change] = []
        self.writes: list[Change] = []
        self.unchanged = 0
        self.left_alone = 0
        self.matched: dict[str, Client] = {}

    def plan(self) -> Plan:
        self.plan_routes()
        self.plan_clients()
        # Deletions first, narrowest first: a revoked permission is its own audited change,
        # and nothing the file creates can collide with what it deletes.
        nouns = [Noun.PERMISSION, Noun.RATE_LIMIT, Noun.CREDENTIAL, Noun.CLIENT, Noun.ROUTE]
        deletions = sorted(self.deletions, key=lambda change: nouns.index(change.noun))
        writes = sorted(self.writes, key=lambda change: list(Noun).index(change.noun))
        return Plan(
            tuple(deletions + writes),
            self.unchanged,
            self.left_alone,
            self.db_routes,
            self.matched,
        )

    def error(self, location: str, message: str) -> None:
        self.issues.append(Issue(location, message))

    def write(self, change: Change) -> None:
        self.writes.append(change)

    def compare(
        self, noun: Noun, subject: str, spec: Spec, row: Model, owner: str, *diffs: tuple[str, str]
    ) -> None:
        """Plan an update of `row` if any of `diffs` (from _diff) found a change."""
        found = [(name, text) for name, text in diffs if name]
        if not found:
            self.unchanged += 1
            return
        detail = "; ".join(text for _, text in found)
        fields = tuple(name for name, _ in found)
        self.write(Change(Op.UPDATE, noun, subject, detail, spec, row, owner, fields))

    def leftover(self, change: Change) -> None:
        """An existing object the file does not name: deleted with --prune, else left alone."""
        if self.prune:
            self.deletions.append(change)
        else:
            self.left_alone += 1

    # Routes ---------------------------------------------------------------------------------

    def plan_routes(self) -> None:
        for spec in self.config.routes:
            row = self.db_routes.get(spec.key)
            label = route_label(spec.key)
            if row is None:
                self.write(
                    Change(Op.CREATE, Noun.ROUTE, label, format_rules(spec.method_map), spec)
                )
                continue
            self.compare(
                Noun.ROUTE,
                label,
                spec,
                row,
                "",
                _diff("service", row.service_name, spec.service, _show),
                _diff("description", row.description, spec.description, _show),
                _diff("methods", self.rules.get(row.pk, {}), spec.method_map, format_rules),
            )
        for key, row in self.db_routes.items():
            if key not in self.config.named_routes:
                self.leftover(Change(Op.DELETE, Noun.ROUTE, route_label(key), target=row))

    def route_rules(self, key: RouteKey, location: str) -> None:
        """Report a reference to a route that will not be there once applied (unless an earlier
        error about that route already did). Whether the route configures the methods is the
        service's to say, when the change is applied."""
        if key in self.config.named_routes:
            return
        if key not in self.db_routes:
            self.error(
                location, f"route {route_label(key)} is neither in the file nor in the database"
            )
        elif self.prune:
            self.error(
                location, f"route {route_label(key)} is not in the file, so --prune would delete it"
            )

    # Clients --------------------------------------------------------------------------------

    def plan_clients(self) -> None:
        by_id = {client.pk: client for client in self.db_clients}
        by_name = {client.name.lower(): client for client in self.db_clients}
        claimed: dict[object, str] = {}
        for spec in self.config.clients:
            row = self.match_client(spec, by_id, by_name)
            if row is _REFUSED:
                # Reported; whatever the entry would change waits until the file is fixed.
                if spec.id in by_id:
                    claimed[spec.id] = spec.location
                continue
            if row is not None:
                if row.pk in claimed:
                    self.error(
                        spec.location, f"names the same client as {claimed[row.pk]} ({row.name})"
                    )
                    continue
                claimed[row.pk] = spec.location
                self.matched[spec.location] = row
                self.update_client(spec, row)
            else:
                detail = spec.status if spec.id is None else f"{spec.status}, id {spec.id}"
                self.write(Change(Op.CREATE, Noun.CLIENT, spec.name, detail, spec))
            self.plan_credentials(spec, row)
            self.plan_permissions(spec, row)
            self.plan_rate_limits(spec, row)
        for row in self.db_clients:
            if row.pk not in claimed:
                self.leftover(Change(Op.DELETE, Noun.CLIENT, row.name, target=row))

    def match_client(
        self, spec: ClientSpec, by_id: dict[object, Client], by_name: dict[str, Client]
    ) -> Any:
        """The client `spec` names, None for a new one, or _REFUSED (reported)."""
        named = by_name.get(spec.name.lower())
        if spec.id is None:
            return named
        if named is not None and named.pk != spec.id:
            self.error(
                f"{spec.location}.name",
                f"{named.name!r} is the name of client {named.pk}, not of {spec.id}; "
                "give that id, or another name",
            )
            return _REFUSED
        return by_id.get(spec.id)

    def update_client(self, spec: ClientSpec, row: Client) -> None:
        self.compare(
            Noun.CLIENT,
            row.name,
            spec,
            row,
            "",
            _diff("name", row.name, spec.name),
            _diff("status", row.status, spec.status),
            _diff("description", row.description, spec.description, _show),
        )

    def plan_credentials(self, spec: ClientSpec, row: Client | None) -> None:
        live = self.credentials.get(row.pk, []) if row else []
        match = match_credentials(spec.credentials, live)
        self.unchanged += len(match.kept)
        for cred, how in match.missing:
            self.create_credential(spec, cred, how)
        for credential in match.unnamed:
            label = f" [{credential.label}]" if credential.label else ""
            subject = f"{spec.name} {credential.kind} {credential.prefix}{label}"
            self.leftover(Change(Op.DELETE, Noun.CREDENTIAL, subject, "revoke", target=credential))

    def create_credential(self, spec: ClientSpec, cred: CredentialSpec, how: str) -> None:
        subject = f"{spec.name} {cred.kind}" + (f" [{cred.label}]" if cred.label else "")
        self.write(Change(Op.CREATE, Noun.CREDENTIAL, subject, how, cred, owner=spec.location))

    def permission(self, row: Client, pk: int, route_id: int, methods: str) -> Permission:
        route = self.routes_by_id[route_id]
        return Permission(pk=pk, client=row, route=route, methods=methods)

    def plan_permissions(self, spec: ClientSpec, row: Client | None) -> None:
        existing = {
            _key(self.routes_by_id[route_id]): (pk, route_id, methods)
            for pk, route_id, methods in (self.permissions.get(row.pk, []) if row else ())
        }
        for perm in spec.permissions:
            label = f"{spec.name} {route_label(perm.route)}"
            self.route_rules(perm.route, perm.location)
            current = existing.pop(perm.route, None)
            if current is None:
                methods = ", ".join(perm.methods)
                self.write(
                    Change(Op.CREATE, Noun.PERMISSION, label, methods, perm, None, spec.location)
                )
                continue
            held = tuple(current[2].split(","))
            if held == perm.methods:
                self.unchanged += 1
                continue
            target = self.permission(row, *current)
            diff = _diff("methods", held, perm.methods, ", ".join)
            self.compare(Noun.PERMISSION, label, perm, target, spec.location, diff)
        for key, current in existing.items():
            target = self.permission(row, *current)
            subject = f"{spec.name} {route_label(key)}"
            self.leftover(Change(Op.DELETE, Noun.PERMISSION, subject, target=target))

    def plan_rate_limits(self, spec: ClientSpec, row: Client | None) -> None:
        existing = {
            (_key(limit.route) if limit.route else None, limit.window): limit
            for limit in (self.rate_limits.get(row.pk, []) if row else ())
        }
        for limit in spec.rate_limits:
            if limit.route is not None:
                self.route_rules(limit.route, limit.location)
            current = existing.pop(limit.key, None)
            subject = _rate_limit_subject(spec.name, limit.route, limit.window)
            if current is None:
                detail = f"limit {limit.limit}"
                self.write(
                    Change(Op.CREATE, Noun.RATE_LIMIT, subject, detail, limit, None, spec.location)
                )
            else:
                diff = _diff("limit", current.limit, limit.limit)
                self.compare(Noun.RATE_LIMIT, subject, limit, current, spec.location, diff)
        for (route, window), current in existing.items():
            subject = _rate_limit_subject(spec.name, route, window)
            self.leftover(Change(Op.DELETE, Noun.RATE_LIMIT, subject, target=current))


def _rate_limit_subject(client: str, route: RouteKey | None, window: str) -> str:
    scope = route_label(route) if route else "all routes"
    return f"{client} per {window} on {scope}"
