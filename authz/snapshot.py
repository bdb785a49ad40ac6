"""The configuration as the decision path sees it: immutable, in memory, swapped atomically.

`build_snapshot` is the only code on the decision side that reads the database. Each process
holds one snapshot in a `SnapshotHolder`, which compares the shared config version at most
every `check_interval` seconds and rebuilds when it changed. A rebuild that fails (database
down) keeps the old snapshot, so decisions go on; `/health` reports the age.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from authz import metrics
from authz.matching import RouteIndex
from clients import encryption
from clients.models import Client, Credential
from permissions.models import Permission, RateLimit
from routes.models import Route, RouteMethod
from routes.patterns import PatternError, parse_pattern

log = logging.getLogger(__name__)

# After a failed rebuild (database down), wait this long before the next attempt.
RETRY_AFTER_FAILURE = 1.0


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


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def build_snapshot(version: str | None) -> Snapshot:
    """Read the whole configuration in a handful of queries and compile it."""
    rules: dict[int, dict[str, str]] = {}
    for route_id, method, auth in RouteMethod.objects.values_list("route_id", "method", "auth"):
        rules.setdefault(route_id, {})[method] = auth
    routes: dict[int, RouteRule] = {}
    entries = []
    for route in Route.objects.order_by("id"):
        try:
            pattern = parse_pattern(route.pattern)
        except PatternError as exc:
            # The database constraint is looser than the grammar in a few corners. Skipping the
            # route could let a broader route answer for its paths (fail open), so the whole
            # build fails and the holder keeps deciding from the last good snapshot.
            raise UnreadableRoute(
                f"route {route.id} has a pattern the engine cannot read: {exc}"
            ) from exc
        rule = RouteRule(
            route.id, route.domain, route.pattern, route.service_name, rules.get(route.id, {})
        )
        routes[route.id] = rule
        entries.append((route.domain, pattern, rule))

    permissions: dict[str, dict[int, frozenset[str]]] = {}
    for client_id, route_id, methods in Permission.objects.values_list(
        "client_id", "route_id", "methods"
    ):
        permissions.setdefault(str(client_id), {})[route_id] = frozenset(methods.split(","))
    limits: dict[str, list[Limit]] = {}
    for client_id, route_id, limit, window in RateLimit.objects.values_list(
        "client_id", "route_id", "limit", "window"
    ):
        limits.setdefault(str(client_id), []).append(
            Limit(route_id, limit, RateLimit.WINDOW_SECONDS[window])
        )

    api_keys: dict[str, ApiKey] = {}
    secrets: dict[str, list[HmacSecret]] = {}
    live = Credential.objects.filter(revoked_at__isnull=True)
    for cred in live.only("id", "client_id", "kind", "digest", "secret_encrypted", "expires_at"):
        client_id = str(cred.client_id)
        if cred.kind == Credential.Kind.API_KEY:
            api_keys[cred.digest] = ApiKey(cred.id, client_id, _epoch(cred.expires_at))
            continue
        try:
            secret = encryption.unseal(cred.secret_encrypted).encode("utf-8")
        except encryption.EncryptionError:
            log.error("HMAC credential %s cannot be decrypted; it is skipped", cred.id)
            continue
        secrets.setdefault(client_id, []).append(
            HmacSecret(cred.id, secret, _epoch(cred.expires_at))
        )

    clients = {
        str(pk): ClientEntry(
            id=str(pk),
            name=name,
            status=status,
            permissions=permissions.get(str(pk), {}),
            hmac_secrets=tuple(secrets.get(str(pk), ())),
            limits=tuple(limits.get(str(pk), ())),
        )
        for pk, name, status in Client.objects.values_list("id", "name", "status")
    }
    return Snapshot(version, time.time(), RouteIndex(entries), routes, clients, api_keys)


class SnapshotUnavailable(Exception):
    """No snapshot could ever be built (the database was down since start)."""


class SnapshotHolder:
    """One per process. `get()` is what the decision path calls; it is cheap."""

    def __init__(
        self,
        *,
        current_version: Callable[[], str | None],
        build: Callable[[str | None], Snapshot] = build_snapshot,
        check_interval: float = 0.25,
        max_age: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._current_version = current_version
        self._build = build
        self._check_interval = check_interval
        self._max_age = max_age
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._built_at = 0.0
        self._next_check = 0.0
        self._lock = threading.Lock()
        self._forced = False
        self.last_error: str | None = None
        self.reloads = 0

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def age(self) -> float | None:
        return None if self._snapshot is None else self._clock() - self._built_at

    def invalidate(self) -> None:
        """Rebuild on the next `get()`, whatever the version says (tests, operator tools)."""
        self._forced = True
        self._next_check = 0.0

    def get(self) -> Snapshot:
        now = self._clock()
        snapshot = self._snapshot
        if snapshot is not None and now < self._next_check:
            return snapshot
        # One thread refreshes; the others keep deciding from the snapshot they have.
        if not self._lock.acquire(blocking=snapshot is None):
            return snapshot  # type: ignore[return-value]
        try:
            self._refresh(now)
        finally:
            self._lock.release()
        if self._snapshot is None:
            raise SnapshotUnavailable(self.last_error or "no snapshot")
        return self._snapshot

    def _refresh(self, now: float) -> None:
        self._next_check = now + self._check_interval
        try:
            version = self._current_version()
        except Exception as exc:  # the shared cache is down: fall back to the timer alone
            log.warning("config version unavailable: %s", type(exc).__name__)
            metrics.count_cache_error(metrics.CacheOperation.CONFIG_VERSION)
            version = None
        snapshot = self._snapshot
        stale = snapshot is None or self._forced or now - self._built_at >= self._max_age
        # Without a version (cache down) only the max_age timer triggers rebuilds.
        if not stale and (version is None or version == snapshot.version):
            return
        try:
            fresh = self._build(version)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if error != self.last_error:
                log.warning("snapshot rebuild failed, keeping the old one: %s", error)
            self.last_error = error
            self._next_check = now + RETRY_AFTER_FAILURE
            metrics.snapshot_rebuild_failed()
            return
        self._snapshot, self._built_at = fresh, now
        self._forced = False
        self.last_error = None
        self.reloads += 1
        metrics.snapshot_reloaded(fresh.built_at)
