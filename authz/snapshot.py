"""The configuration as the decision path sees it: immutable, in memory, swapped atomically.

`build_snapshot` is the only code on the decision side that reads the database. Each decision
process holds one snapshot (authz/refresh.py), rebuilt by a background thread when the config
version changes and swapped in one assignment; requests never build one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.utils import timezone

from authz.matching import RouteIndex
from clients import encryption
from clients.models import Client, Credential
from permissions.models import Permission, RateLimit
from routes.models import Route, RouteMethod
from routes.patterns import Pattern, PatternError, parse_pattern

log = logging.getLogger(__name__)

# Revoked API keys stay in the snapshot this long, so that their use is told apart from a
# made-up key in the audit trail (`revoked_credential`), naming the client that held them.
REVOKED_KEYS_KEPT = timedelta(days=90)


class UnreadableRoute(Exception):
    """A stored pattern the grammar refuses: the configuration cannot be compiled safely."""


@dataclass(frozen=True, slots=True)
class RouteRule:
    id: int
    domain: str
    pattern: str
    service: str
    methods: Mapping[str, str]  # method -> auth

    def __str__(self) -> str:
        return f"{self.domain}{self.pattern}"


@dataclass(frozen=True, slots=True)
class ApiKey:
    credential_id: int
    client_id: str
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class HmacSecret:
    credential_id: int
    secret: bytes = field(repr=False)
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class Limit:
    route_id: int | None
    limit: int
    window: int  # seconds


@dataclass(frozen=True, slots=True)
class ClientEntry:
    id: str
    name: str
    status: str
    permissions: Mapping[int, frozenset[str]]  # route id -> allowed methods
    hmac_secrets: tuple[HmacSecret, ...] = ()
    limits: tuple[Limit, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: str | None
    built_at: float
    index: RouteIndex[RouteRule]
    routes: Mapping[int, RouteRule]
    clients: Mapping[str, ClientEntry]
    api_keys: Mapping[str, ApiKey]  # digest -> key
    revoked_keys: Mapping[str, ApiKey] = field(default_factory=dict)  # digest -> revoked key


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


@lru_cache(maxsize=100_000)
def _pattern(text: str) -> Pattern:
    # Patterns rarely change between builds: parse each distinct text once per process.
    return parse_pattern(text)


class BuildCache:
    """What one build can hand the next, so that a rebuild costs what changed:

    - decrypted HMAC secrets by sealed value (a Fernet open costs tens of microseconds);
    - the route index, reused as long as the routes and their method rules are unchanged
      (most changes are to clients, keys and permissions)."""

    def __init__(self) -> None:
        self._opened: dict[str, bytes] = {}
        self._route_rows: list[tuple] | None = None
        self._routes: tuple[RouteIndex[RouteRule], dict[int, RouteRule]] | None = None

    def routes(self, rows: list[tuple]) -> tuple[RouteIndex[RouteRule], dict[int, RouteRule]]:
        if rows != self._route_rows or self._routes is None:
            self._routes = _compile_routes(rows)
            self._route_rows = rows
        return self._routes

    def open_all(self, sealed_values: list[str]) -> dict[str, bytes | None]:
        opened: dict[str, bytes | None] = {}
        for sealed in sealed_values:
            secret = self._opened.get(sealed)
            if secret is None:
                try:
                    secret = encryption.unseal(sealed).encode("utf-8")
                except encryption.EncryptionError:
                    secret = None
            opened[sealed] = secret
        # Forget what this build no longer holds (revoked, re-sealed after a key rotation).
        self._opened = {k: v for k, v in opened.items() if v is not None}
        return opened


def _compile_routes(rows: list[tuple]) -> tuple[RouteIndex[RouteRule], dict[int, RouteRule]]:
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


def build_snapshot(version: str | None, cache: BuildCache | None = None) -> Snapshot:
    """Read the whole configuration in a handful of queries and compile it."""
    cache = cache or BuildCache()
    rules: dict[int, dict[str, str]] = {}
    for route_id, method, auth in RouteMethod.objects.values_list("route_id", "method", "auth"):
        rules.setdefault(route_id, {})[method] = auth
    rows = [
        (route_id, domain, text, service, tuple(sorted(rules.get(route_id, {}).items())))
        for route_id, domain, text, service in Route.objects.order_by("id").values_list(
            "id", "domain", "pattern", "service_name"
        )
    ]
    index, routes = cache.routes(rows)

    method_sets: dict[str, frozenset[str]] = {}
    permissions: dict[str, dict[int, frozenset[str]]] = {}
    for client_id, route_id, methods in Permission.objects.values_list(
        "client_id", "route_id", "methods"
    ):
        # Most permissions share a handful of method lists: one frozenset each.
        allowed = method_sets.get(methods)
        if allowed is None:
            allowed = method_sets[methods] = frozenset(methods.split(","))
        permissions.setdefault(str(client_id), {})[route_id] = allowed
    limits: dict[str, list[Limit]] = {}
    for client_id, route_id, limit, window in RateLimit.objects.values_list(
        "client_id", "route_id", "limit", "window"
    ):
        limits.setdefault(str(client_id), []).append(
            Limit(route_id, limit, RateLimit.WINDOW_SECONDS[window])
        )

    api_keys, revoked_keys, hmac_rows = _credentials()
    opened = cache.open_all([sealed for _, _, sealed, _ in hmac_rows])
    hmac_secrets: dict[str, list[HmacSecret]] = {}
    for cred_id, client_id, sealed, expires in hmac_rows:
        secret = opened[sealed]
        if secret is None:
            log.error("HMAC credential %s cannot be decrypted; it is skipped", cred_id)
            continue
        hmac_secrets.setdefault(client_id, []).append(HmacSecret(cred_id, secret, expires))

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
            for pk, name, status in Client.objects.values_list("id", "name", "status")
        )
    }
    return Snapshot(version, time.time(), index, routes, clients, api_keys, revoked_keys)


def _credentials() -> tuple[
    dict[str, ApiKey], dict[str, ApiKey], list[tuple[int, str, str, float | None]]
]:
    """Live API keys by digest, recently revoked keys by digest, and live HMAC rows."""
    api_keys: dict[str, ApiKey] = {}
    revoked_keys: dict[str, ApiKey] = {}
    hmac_rows: list[tuple[int, str, str, float | None]] = []
    since = timezone.now() - REVOKED_KEYS_KEPT
    rows = Credential.objects.filter(revoked_at__isnull=True) | Credential.objects.filter(
        kind=Credential.Kind.API_KEY, revoked_at__gte=since
    )
    for cred_id, client_id, kind, digest, sealed, expires, revoked in rows.values_list(
        "id", "client_id", "kind", "digest", "secret_encrypted", "expires_at", "revoked_at"
    ):
        client_key = str(client_id)
        if revoked is not None:
            revoked_keys[digest] = ApiKey(cred_id, client_key, _epoch(expires))
        elif kind == Credential.Kind.API_KEY:
            api_keys[digest] = ApiKey(cred_id, client_key, _epoch(expires))
        else:
            hmac_rows.append((cred_id, client_key, sealed, _epoch(expires)))
    return api_keys, revoked_keys, hmac_rows
