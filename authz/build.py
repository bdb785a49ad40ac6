"""Reading the configuration into a snapshot: a whole build, or a patch of what changed.

The only code on the decision side that reads the database. A whole build reads every route,
client, credential, permission and limit in a handful of queries. A patch starts from the
snapshot in use and re-reads only what the change log (core/config_version.py) says changed:
the entries of the clients named, and the route index when routes changed; everything else is
shared with the old snapshot. Either way the result is a new immutable Snapshot.

`BuildCache` keeps what one build can hand the next: decrypted HMAC secrets by sealed value (a
Fernet open costs tens of microseconds) and the compiled route index, reused while the routes
and their method rules are unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from functools import lru_cache

from django.db.models import QuerySet
from django.utils import timezone

from authz.matching import RouteIndex
from authz.snapshot import (
    ApiKey,
    ClientEntry,
    HmacSecret,
    Limit,
    RouteRule,
    Snapshot,
    UnreadableRoute,
)
from clients import encryption
from clients.models import Client, Credential
from core import config_version
from permissions.models import Permission, RateLimit
from routes.models import Route, RouteMethod
from routes.patterns import Pattern, PatternError, parse_pattern

log = logging.getLogger(__name__)

# Revoked API keys stay in the snapshot this long, so that their use is told apart from a
# made-up key in the audit trail (`revoked_credential`), naming the client that held them.
REVOKED_KEYS_KEPT = timedelta(days=90)

RouteRows = list[tuple]


class BuildCache:
    """What one build hands the next (see the module's docstring)."""

    def __init__(self) -> None:
        self._opened: dict[str, bytes] = {}
        self._route_rows: RouteRows | None = None
        self._routes: tuple[RouteIndex[RouteRule], dict[int, RouteRule]] | None = None

    def routes(self, rows: RouteRows) -> tuple[RouteIndex[RouteRule], dict[int, RouteRule]]:
        if rows != self._route_rows or self._routes is None:
            self._routes = _compile_routes(rows)
            self._route_rows = rows
        return self._routes

    def open_all(self, sealed_values: list[str], *, keep_others: bool) -> dict[str, bytes | None]:
        opened: dict[str, bytes | None] = {}
        for sealed in sealed_values:
            secret = self._opened.get(sealed)
            if secret is None:
                try:
                    secret = encryption.unseal(sealed).encode("utf-8")
                except encryption.EncryptionError:
                    secret = None
            opened[sealed] = secret
        found = {k: v for k, v in opened.items() if v is not None}
        # A whole build forgets what it no longer holds (revoked, re-sealed after a key
        # rotation); a patch saw only some clients' secrets and keeps the rest.
        self._opened = {**self._opened, **found} if keep_others else found
        return opened


def build_snapshot(version: str | None, cache: BuildCache | None = None) -> Snapshot:
    """Read the whole configuration and compile it."""
    cache = cache or BuildCache()
    index, routes = cache.routes(_route_rows())
    clients, api_keys, revoked_keys = _clients(cache, None)
    return Snapshot(version, time.time(), index, routes, clients, api_keys, revoked_keys)


def patch_snapshot(
    old: Snapshot,
    version: str | None,
    cache: BuildCache,
    *,
    clients: Collection[str],
    routes: bool,
) -> Snapshot:
    """`old` with the entries of `clients` (and, with `routes`, the routes) read afresh."""
    index, route_rules = cache.routes(_route_rows()) if routes else (old.index, old.routes)
    entries, api_keys, revoked_keys = dict(old.clients), old.api_keys, old.revoked_keys
    if clients:
        changed = frozenset(clients)
        fresh, fresh_keys, fresh_revoked = _clients(cache, changed)
        for client_id in changed:
            entries.pop(client_id, None)
        entries.update(fresh)
        api_keys = {d: k for d, k in api_keys.items() if k.client_id not in changed}
        api_keys.update(fresh_keys)
        revoked_keys = {d: k for d, k in revoked_keys.items() if k.client_id not in changed}
        revoked_keys.update(fresh_revoked)
    return Snapshot(version, time.time(), index, route_rules, entries, api_keys, revoked_keys)


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


@lru_cache(maxsize=100_000)
def _pattern(text: str) -> Pattern:
    # Patterns rarely change between builds: parse each distinct text once per process.
    return parse_pattern(text)


def _route_rows() -> RouteRows:
    rules: dict[int, dict[str, str]] = {}
    for route_id, method, auth in RouteMethod.objects.values_list("route_id", "method", "auth"):
        rules.setdefault(route_id, {})[method] = auth
    return [
        (route_id, domain, text, service, tuple(sorted(rules.get(route_id, {}).items())))
        for route_id, domain, text, service in Route.objects.order_by("id").values_list(
            "id", "domain", "pattern", "service_name"
        )
    ]


def _compile_routes(rows: RouteRows) -> tuple[RouteIndex[RouteRule], dict[int, RouteRule]]:
    """(id, domain, pattern, service, ((method, auth), ...)) rows -> the index and the rules."""
    routes: dict[int, RouteRule] = {}
    entries = []
    for route_id, domain, text, service, methods in rows:
        try:
            pattern = _pattern(text)
        except PatternError as exc:
            # The database constraint is looser than the grammar in a few corners. Skipping the
            # route could let a broader route answer for its paths (fail open), so the whole
            # build fails and the holder keeps deciding from the last good snapshot.
            raise UnreadableRoute(
                f"route {route_id} has a pattern the engine cannot read: {exc}"
            ) from exc
        rule = RouteRule(route_id, domain, text, service, dict(methods))
        routes[route_id] = rule
        entries.append((domain, pattern, rule))
    return RouteIndex(entries), routes


def _only(queryset: QuerySet, field: str, ids: frozenset[str] | None) -> QuerySet:
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


def _clients(
    cache: BuildCache, ids: frozenset[str] | None
) -> tuple[dict[str, ClientEntry], dict[str, ApiKey], dict[str, ApiKey]]:
    """The entries of the clients `ids` (None: every client), with their keys by digest."""
    method_sets: dict[str, frozenset[str]] = {}
    permissions: dict[str, dict[int, frozenset[str]]] = {}
    rows = _only(Permission.objects, "client_id", ids)
    for client_id, route_id, methods in rows.values_list("client_id", "route_id", "methods"):
        # Most permissions share a handful of method lists: one frozenset each.
        allowed = method_sets.get(methods)
        if allowed is None:
            allowed = method_sets[methods] = frozenset(methods.split(","))
        permissions.setdefault(str(client_id), {})[route_id] = allowed
    limits: dict[str, list[Limit]] = {}
    rows = _only(RateLimit.objects, "client_id", ids)
    for client_id, route_id, limit, window in rows.values_list(
        "client_id", "route_id", "limit", "window"
    ):
        limits.setdefault(str(client_id), []).append(
            Limit(route_id, limit, RateLimit.WINDOW_SECONDS[window])
        )
    api_keys, revoked_keys, hmac_secrets = _credentials(cache, ids)
    clients = {
        key: ClientEntry(
            id=key,
            name=name,
            status=status,
            permissions=permissions.get(key, {}),
            hmac_secrets=tuple(hmac_secrets.get(key, ())),
            limits=tuple(limits.get(key, ())),
        )
        for key, name, status in (
            (str(pk), name, status)
            for pk, name, status in _only(Client.objects, "id", ids).values_list(
                "id", "name", "status"
            )
        )
    }
    return clients, api_keys, revoked_keys


def _credentials(
    cache: BuildCache, ids: frozenset[str] | None
) -> tuple[dict[str, ApiKey], dict[str, ApiKey], dict[str, list[HmacSecret]]]:
    """Live API keys by digest, recently revoked keys by digest, live HMAC secrets by client."""
    api_keys: dict[str, ApiKey] = {}
    revoked_keys: dict[str, ApiKey] = {}
    hmac_rows: list[tuple[int, str, str, float | None]] = []
    since = timezone.now() - REVOKED_KEYS_KEPT
    rows = Credential.objects.filter(revoked_at__isnull=True) | Credential.objects.filter(
        kind=Credential.Kind.API_KEY, revoked_at__gte=since
    )
    for cred_id, client_id, kind, digest, sealed, expires, revoked in _only(
        rows, "client_id", ids
    ).values_list(
        "id", "client_id", "kind", "digest", "secret_encrypted", "expires_at", "revoked_at"
    ):
        client_key = str(client_id)
        if revoked is not None:
            revoked_keys[digest] = ApiKey(cred_id, client_key, _epoch(expires))
        elif kind == Credential.Kind.API_KEY:
            api_keys[digest] = ApiKey(cred_id, client_key, _epoch(expires))
        else:
            hmac_rows.append((cred_id, client_key, sealed, _epoch(expires)))
    opened = cache.open_all([sealed for _, _, sealed, _ in hmac_rows], keep_others=ids is not None)
    secrets: dict[str, list[HmacSecret]] = {}
    for cred_id, client_key, sealed, expires in hmac_rows:
        secret = opened[sealed]
        if secret is None:
            log.error("HMAC credential %s cannot be decrypted; it is skipped", cred_id)
            continue
        secrets.setdefault(client_key, []).append(HmacSecret(cred_id, secret, expires))
    return api_keys, revoked_keys, secrets


class DatabaseSource:
    """Where a SnapshotHolder gets its snapshots: the version row, whole builds, and patches
    from the change log. Each build or patch also says up to which log row it is current."""

    def __init__(self) -> None:
        self.cache = BuildCache()

    def version(self) -> str | None:
        return config_version.position()

    def build(self, version: str | None) -> tuple[Snapshot, int]:
        # The log position first: a change that commits during the build is newer than it,
        # so the next update applies it (again, harmlessly, if the build already saw it).
        mark = config_version.last_change()
        return build_snapshot(version, self.cache), mark

    def update(self, old: Snapshot, version: str | None, since: int) -> tuple[Snapshot, int] | None:
        """`old` patched with the changes logged after `since`; None when only a whole build
        will do (a change of unknown scope, or a new version without log rows)."""
        changes = config_version.changes_since(since)
        if not changes or any(change.everything for change in changes):
            return None
        clients = {change.client_id for change in changes if change.client_id}
        routes = any(change.routes for change in changes)
        patched = patch_snapshot(old, version, self.cache, clients=clients, routes=routes)
        return patched, changes[-1].id
