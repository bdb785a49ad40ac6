"""What applying a config file would change: the file compared with the database (design §8).

`build_plan` also finishes validation with the checks that need the database: a permission or
rate limit on a route that is neither in the file nor (without --prune) in the database,
methods the route does not configure, a client name that belongs to another client id. It
reads and never writes, so `--dry-run` and the real run print the same plan.

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

from django.db.models import Model, Prefetch
from django.utils import timezone

from clients.models import Client
from permissions.configfile.credentials import match_credentials
from permissions.configfile.spec import (
    SAME_PATHS,
    ClientSpec,
    Config,
    ConfigError,
    CredentialSpec,
    Issue,
    PermissionSpec,
    RateLimitSpec,
    RouteKey,
    RouteSpec,
    route_label,
)
from permissions.models import Permission, RateLimit
from routes.models import Route
from routes.patterns import canonical_pattern

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
    """Compare `config` with the database; raise ConfigError listing `issues` and every
    problem found here, or return the changes in the order they must be applied."""
    planner = _Planner(config, issues, prune=prune)
    plan = planner.plan()
    if issues:
        raise ConfigError(issues)
    return plan


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
        self.db_routes = {_key(route): route for route in Route.objects.prefetch_related("methods")}
        self.db_paths = {
            (r.domain.lower(), r.canonical_pattern): r for r in self.db_routes.values()
        }
        self.db_clients = list(
            Client.objects.prefetch_related(
                "credentials",
                Prefetch("permissions", queryset=Permission.objects.select_related("route")),
                Prefetch("rate_limits", queryset=RateLimit.objects.select_related("route")),
            )
        )
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
                self.check_same_paths(spec)
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
                _diff("methods", row.method_rules(), spec.method_map, format_rules),
            )
        for key, row in self.db_routes.items():
            if key not in self.config.named_routes:
                self.leftover(Change(Op.DELETE, Noun.ROUTE, route_label(key), target=row))

    def check_same_paths(self, spec: RouteSpec) -> None:
        """A new route must not match the same paths as a database route that stays (one the
        file names is a duplicate within the file; one it does not, --prune deletes first)."""
        other = self.db_paths.get((spec.domain, canonical_pattern(spec.pattern)))
        if other is not None and not self.prune:
            described = f"route {other.pk} ({other}) in the database"
            self.error(
                f"{spec.location}.pattern",
                f"{SAME_PATHS.format(other=described)}; write its pattern, or apply with --prune "
                "to replace it",
            )

    def route_rules(self, key: RouteKey, location: str) -> Mapping[str, str] | None:
        """The methods `key` will configure once applied; None when it cannot be told (after
        reporting why, unless an earlier error about that route already did)."""
        if key in self.file_routes:
            return self.file_routes[key].method_map
        if key in self.config.named_routes:
            return None
        row = self.db_routes.get(key)
        if row is None:
            self.error(
                location, f"route {route_label(key)} is neither in the file nor in the database"
            )
            return None
        if self.prune:
            self.error(
                location, f"route {route_label(key)} is not in the file, so --prune would delete it"
            )
            return None
        return row.method_rules()

    # Clients --------------------------------------------------------------------------------

    def plan_clients(self) -> None:
        by_id = {client.pk: client for client in self.db_clients}
        by_name = {client.name.lower(): client for client in self.db_clients}
        claimed: dict[object, str] = {}
        for spec in self.config.clients:
            row = self.match_client(spec, by_id, by_name)
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
    ) -> Client | None:
        named = by_name.get(spec.name.lower())
        if spec.id is None:
            return named
        if named is not None and named.pk != spec.id:
            self.error(
                f"{spec.location}.name",
                f"{named.name!r} is the name of client {named.pk}, not of {spec.id}; "
                "give that id, or another name",
            )
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
        live = [c for c in row.credentials.all() if c.is_live(self.now)] if row else []
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

    def plan_permissions(self, spec: ClientSpec, row: Client | None) -> None:
        existing = {_key(p.route): p for p in row.permissions.all()} if row else {}
        for perm in spec.permissions:
            label = f"{spec.name} {route_label(perm.route)}"
            rules = self.route_rules(perm.route, perm.location)
            missing = [m for m in perm.methods if rules is not None and m not in rules]
            if missing:
                verb = "is" if len(missing) == 1 else "are"
                where = route_label(perm.route)
                message = f"{', '.join(missing)} {verb} not configured on route {where}"
                self.error(f"{perm.location}.methods", message)
            current = existing.pop(perm.route, None)
            if current is None:
                methods = ", ".join(perm.methods)
                self.write(
                    Change(Op.CREATE, Noun.PERMISSION, label, methods, perm, None, spec.location)
                )
            else:
                diff = _diff("methods", current.method_list, perm.methods, ", ".join)
                self.compare(Noun.PERMISSION, label, perm, current, spec.location, diff)
        for key, current in existing.items():
            self.leftover(
                Change(
                    Op.DELETE, Noun.PERMISSION, f"{spec.name} {route_label(key)}", target=current
                )
            )

    def plan_rate_limits(self, spec: ClientSpec, row: Client | None) -> None:
        existing = {
            (_key(limit.route) if limit.route else None, limit.window): limit
            for limit in (row.rate_limits.all() if row else ())
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
