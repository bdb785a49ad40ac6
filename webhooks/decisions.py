"""Decision-driven events: `rate_limit.exceeded`, `credential.expired_used` and
`auth_failures.threshold`, from the decision server's request path to the outbox.

On the request path (`observe`, an `authz.observers` observer) nothing blocks and nothing
touches the database:

- a decision without a known client, or an allowed one, costs one attribute test;
- `rate_limit.exceeded` and `credential.expired_used` are handed on at most once per
  GATEKEEPER_WEBHOOK_SIGNAL_INTERVAL per (type, client) in this process: a dictionary lookup,
  and when the interval has passed one line appended to this process's hand-off spool (the
  decision audit's append-only file, `authz.audit_spool`: it outlives a killed process, and
  a successor adopts what is left);
- a failed authentication of a known client adds one to an in-memory tally.

A background thread (started with the decision server process) adds the tallies to a shared
counter per client and window (the cache: Redis when configured, so the count covers every
decision process exactly; the one process's memory otherwise) and hands on
`auth_failures.threshold` when a count crosses GATEKEEPER_WEBHOOK_AUTH_FAILURES. It then copies
the spool into the outbox: each event goes to the endpoints that want it and whose cooldown for
(type, client) has passed (`webhooks.outbox`, exact across processes). So a flood of denials
for one client costs each decision process one spool line per interval, and each endpoint gets
one event per cooldown. Tallies not yet counted when a process is killed are lost (at most
half a second of them); handed-on events are not.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from prometheus_client import Counter

from authz.audit_spool import Spool
from authz.engine import Decision
from authz.reasons import Detail, Reason
from authz.spool_writer import SpoolWriter
from clients.models import Credential
from webhooks import outbox, payloads
from webhooks.models import EventType

log = logging.getLogger(__name__)

SPOOL_DIR = "webhook-spool"
SPOOL_CAPACITY = 10_000
FLUSH_INTERVAL = 0.5
STOP_DRAIN_SECONDS = 3.0
# (type, client) pairs remembered for the interval before the table is started afresh.
MAX_TRACKED = 100_000
_STALE_CREDENTIALS = frozenset({Detail.EXPIRED_CREDENTIAL, Detail.REVOKED_CREDENTIAL})

SIGNALS_DROPPED = Counter(
    "gatekeeper_webhook_signals_dropped",
    "Decision-driven webhook events a decision process could not hand on (its spool full or "
    "unwritable).",
)


def _route(decision: Decision) -> dict[str, Any] | None:
    route = decision.route
    if route is None:
        return None
    return {"id": route.id, "domain": route.domain, "pattern": route.pattern}


class SignalSpool(Spool):
    """The hand-off spool: each batch becomes outbox rows, with the endpoints' cooldowns."""

    def _store(self, records: list[dict[str, Any]]) -> None:
        endpoints: dict[str, list] = {}
        for row in records:
            event_type = row["type"]
            if event_type not in endpoints:
                endpoints[event_type] = outbox.subscribed(event_type)
            if not endpoints[event_type]:
                continue
            data = dict(row["data"])
            data["client"] = payloads.client_ref(row["client_id"], row["client_name"])
            if event_type == EventType.CREDENTIAL_EXPIRED_USED:
                credential = Credential.objects.filter(pk=data.pop("credential_id", None)).first()
                data["credential"] = payloads.credential_ref(credential) if credential else None
            outbox.emit(
                event_type,
                data,
                at=datetime.fromtimestamp(row["time"], tz=UTC),
                client_id=row["client_id"],
                endpoints=endpoints[event_type],
                cooldown=True,
            )


_FIELDS = ("type", "time", "client_id", "client_name", "data")


def _signal(line: dict[str, Any]) -> dict[str, Any]:
    """A spooled line, checked (a KeyError drops an unreadable line, not its whole batch)."""
    return {name: line[name] for name in _FIELDS}


def _row(event_type: str, client_id: str, client_name: str, now: float, data: dict) -> dict:
    return {
        "type": event_type,
        "time": now,
        "client_id": client_id,
        "client_name": client_name,
        "data": data,
    }


class DecisionWatcher(SpoolWriter):
    """One per decision process: the observer (`__call__`) and its background thread."""

    stop_drain_seconds = STOP_DRAIN_SECONDS

    def __init__(
        self,
        spool_dir: Path,
        *,
        interval: float,
        failures: int,
        window: int,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        super().__init__(
            SignalSpool(
                spool_dir, capacity=SPOOL_CAPACITY, to_record=_signal, on_drop=SIGNALS_DROPPED.inc
            ),
            interval=flush_interval,
            name="gk-webhook-handoff",
            what="webhook events",
            log=log,
        )
        self._signal_interval = interval
        self._threshold = failures
        self._window = window
        self._next: dict[tuple[str, str], float] = {}
        # Failures per client since the last flush; counted into the window of the flush
        # (a failure within half a second of a window's end may count in the next one).
        self._tally: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()
        self._count_failing = False

    # --- the request path ----------------------------------------------------------------

    def __call__(self, decision: Decision, now: float) -> None:
        client = decision.client
        if client is None:
            return
        reason = decision.reason
        if reason is Reason.RATE_LIMIT_EXCEEDED:
            if self._due(EventType.RATE_LIMIT_EXCEEDED, client.id, now):
                usage = decision.usage
                data = {
                    "route": _route(decision),
                    "limit": usage.limit if usage else None,
                    "reset_seconds": usage.reset_seconds if usage else None,
                }
                row = _row(EventType.RATE_LIMIT_EXCEEDED, client.id, client.name, now, data)
                self.spool.append(row)
        elif reason is Reason.INVALID_CREDENTIALS:
            with self._lock:
                self._tally[client.id] = self._tally.get(client.id, 0) + 1
                self._names[client.id] = client.name
            if decision.detail in _STALE_CREDENTIALS and self._due(
                EventType.CREDENTIAL_EXPIRED_USED, client.id, now
            ):
                data = {
                    "credential_id": decision.credential_id,
                    "detail": str(decision.detail),
                    "route": _route(decision),
                }
                row = _row(EventType.CREDENTIAL_EXPIRED_USED, client.id, client.name, now, data)
                self.spool.append(row)

    def _due(self, event_type: str, client_id: str, now: float) -> bool:
        """Whether this process hands on (type, client) now; if so, the next time is set."""
        key = (event_type, client_id)
        # The common case in a flood, read without the lock (one dictionary read is atomic).
        if now < self._next.get(key, 0.0):
            return False
        with self._lock:
            if now < self._next.get(key, 0.0):
                return False
            if len(self._next) >= MAX_TRACKED:
                self._next.clear()
            self._next[key] = now + self._signal_interval
        return True

    # --- the background thread -----------------------------------------------------------

    def flush(self) -> int:
        """Count the tallies, then copy the spool into the outbox; returns the spool lines
        copied. Raises when the database fails (the lines stay in the spool)."""
        with self._lock:
            tally, self._tally = self._tally, {}
            names, self._names = self._names, {}
        start = int(time.time() // self._window) * self._window
        for client_id, count in tally.items():
            client_name = names[client_id]
            total = self._count(client_id, start, count)
            if total >= self._threshold > total - count:
                data = {
                    "failures": total,
                    "threshold": self._threshold,
                    "window_seconds": self._window,
                    "window_start": datetime.fromtimestamp(start, tz=UTC).isoformat(),
                }
                now = time.time()
                row = _row(EventType.AUTH_FAILURES_THRESHOLD, client_id, client_name, now, data)
                self.spool.append(row)
        return self.spool.drain()

    def _count(self, client_id: str, start: int, count: int) -> int:
        """Add `count` to the client's failures in the window starting at `start` (one atomic
        increment, shared by every process when the cache is Redis); the new total."""
        key = f"gatekeeper:webhooks:auth-failures:{client_id}:{start}"
        try:
            cache.add(key, 0, timeout=self._window * 2)
            total = cache.incr(key, count)
        except Exception as exc:
            # Without the shared count a threshold cannot be told; this process's share is
            # lost rather than guessed (once per outage in the log).
            if not self._count_failing:
                self._count_failing = True
                log.warning("auth failure counts cannot be kept (%s)", type(exc).__name__)
            return 0
        self._count_failing = False
        return total


_lock = threading.Lock()
_watcher: DecisionWatcher | None = None


def get_watcher() -> DecisionWatcher:
    global _watcher
    watcher = _watcher
    if watcher is None:
        with _lock:
            if _watcher is None:
                _watcher = DecisionWatcher(
                    Path(settings.GATEKEEPER_STATE_DIR) / SPOOL_DIR,
                    interval=settings.GATEKEEPER_WEBHOOK_SIGNAL_INTERVAL,
                    failures=settings.GATEKEEPER_WEBHOOK_AUTH_FAILURES,
                    window=settings.GATEKEEPER_WEBHOOK_AUTH_FAILURE_WINDOW,
                )
            watcher = _watcher
    return watcher


_WATCHED = (Reason.RATE_LIMIT_EXCEEDED, Reason.INVALID_CREDENTIALS)


def observe(decision: Decision, now: float) -> None:
    """The observer registered with `authz.observers`: two comparisons for most decisions."""
    if decision.reason not in _WATCHED or decision.client is None:
        return
    (_watcher or get_watcher())(decision, now)


def start() -> None:
    get_watcher().start()


def stop() -> None:
    """Stop and forget this process's watcher (the next decision builds a new one)."""
    global _watcher
    with _lock:
        old, _watcher = _watcher, None
    if old is not None:
        old.stop()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("GATEKEEPER_") or setting in ("CACHES", "REDIS_URL"):
        stop()
