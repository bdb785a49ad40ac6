"""Keeping each decision process's snapshot fresh, off the request path.

`SnapshotHolder.get()` is what a decision calls: one attribute read, never a database query
and never a rebuild. A `Refresher` thread polls the config version (one primary-key read of
the database) every `interval` seconds and rebuilds the snapshot when the version changed, so
a change committed anywhere is enforced by every process within about `interval` plus one
build. A rebuild that fails (database down) keeps the old snapshot: decisions go on, and
`/health` says degraded.

The same poll tells `/health` whether the database answers, so `/health` itself never waits
on the database: it reports what the refresher saw, and how long ago.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from django.db import connection

from authz.build import DatabaseSource
from authz.snapshot import Snapshot

log = logging.getLogger(__name__)

# After a failed rebuild, wait this long before building again (the version is still polled).
RETRY_AFTER_FAILURE = 1.0
# A whole build at least this often (seconds), whatever the change log says: a safety net
# for writes that went around the services (SQL by hand). Below the log's retention
# (core/config_version.py LOG_KEPT), so a patch never needs a row that was pruned.
WHOLE_BUILD_EVERY = 300.0


class SnapshotUnavailable(Exception):
    """No snapshot could ever be built (the database was down since start)."""


class Probe:
    """The last outcome of a periodic check: when it last succeeded, the last error, and
    whether a check has been waiting for an answer too long (a hanging server)."""

    def __init__(self, clock: Callable[[], float], *, patience: float = 1.0) -> None:
        self._clock = clock
        self._patience = patience
        self._waiting_since: float | None = None
        self.last_ok: float | None = None
        self.error: str | None = None

    def begin(self) -> None:
        self._waiting_since = self._waiting_since or self._clock()

    def ok(self) -> None:
        self.last_ok, self.error, self._waiting_since = self._clock(), None, None

    def failed(self, exc: BaseException) -> None:
        self.error, self._waiting_since = type(exc).__name__, None

    def state(self, *, stale_after: float) -> str:
        """ "ok", or "error: <what>": a failure, a check unanswered for longer than its
        patience, or no success for `stale_after` seconds."""
        now = self._clock()
        waiting = self._waiting_since
        if waiting is not None and now - waiting > self._patience:
            return f"error: no answer for {now - waiting:.1f}s"
        if self.error is not None:
            return f"error: {self.error}"
        if self.last_ok is None:
            return "error: not checked yet"
        if now - self.last_ok > stale_after:
            return f"error: no answer for {now - self.last_ok:.1f}s"
        return "ok"


class Source(Protocol):
    def version(self) -> str | None: ...

    def build(self, version: str | None) -> tuple[Snapshot, int]: ...

    def update(
        self, old: Snapshot, version: str | None, since: int
    ) -> tuple[Snapshot, int] | None: ...


class _Functions:
    """A Source from two functions, with no change log: every change is a whole build."""

    def __init__(
        self, version: Callable[[], str | None], build: Callable[[str | None], Snapshot]
    ) -> None:
        self.version = version
        self._build = build

    def build(self, version: str | None) -> tuple[Snapshot, int]:
        return self._build(version), 0

    def update(self, old: Snapshot, version: str | None, since: int) -> None:
        return None


class SnapshotHolder:
    """One per decision process.

    A change is applied as a patch of the snapshot in use when the change log names what
    changed; a whole build happens at start, for a change of unknown scope, and at least every
    `max_age` seconds (which also bounds how old a log position the patches rely on can be).
    """

    def __init__(
        self,
        *,
        source: Source | None = None,
        current_version: Callable[[], str | None] | None = None,
        build: Callable[[str | None], Snapshot] | None = None,
        max_age: float = WHOLE_BUILD_EVERY,
        clock: Callable[[], float] = time.monotonic,
        on_reload: Callable[[Snapshot], None] | None = None,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        if source is None:
            source = _Functions(current_version, build) if build else DatabaseSource()
        self._source = source
        self._current_version = source.version
        self._mark = 0
        self._whole_at = 0.0
        self._max_age = max_age
        self._clock = clock
        self._on_reload = on_reload
        self._on_failure = on_failure
        self._snapshot: Snapshot | None = None
        self._built_at = 0.0
        self._retry_at = 0.0
        self._forced = False
        self._lock = threading.Lock()
        self.database = Probe(clock)
        self.last_error: str | None = None
        self.reloads = 0

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def age(self) -> float | None:
        return None if self._snapshot is None else self._clock() - self._built_at

    def get(self) -> Snapshot:
        """The snapshot to decide from (the request path: never blocks)."""
        snapshot = self._snapshot
        if snapshot is None:
            raise SnapshotUnavailable(self.last_error or "no snapshot yet")
        return snapshot

    def fresh(self) -> Snapshot:
        """Refresh now if the version changed, then the snapshot: for processes without a
        refresher thread (the admin, commands), where one version query per use is cheap."""
        self.refresh()
        return self.get()

    def invalidate(self) -> None:
        """Rebuild on the next refresh, whatever the version says (tests, operator tools)."""
        self._forced = True
        self._retry_at = 0.0

    def refresh(self) -> bool:
        """Poll the version and rebuild when it changed; True when a new snapshot was swapped
        in. One caller at a time (the refresher thread; tests call it directly)."""
        with self._lock:
            return self._refresh(self._clock())

    def check_database(self) -> None:
        """Ask the database for the version now, only to learn whether it answers."""
        self.database.begin()
        try:
            self._current_version()
        except Exception as exc:
            self._database_failed(exc)
        else:
            self.database.ok()

    def _refresh(self, now: float) -> bool:
        self.database.begin()
        try:
            version = self._current_version()
        except Exception as exc:
            self._database_failed(exc)
            version = None
            if self._snapshot is not None:
                return False
        else:
            self.database.ok()
        snapshot = self._snapshot
        whole = snapshot is None or self._forced or now - self._whole_at >= self._max_age
        if (not whole and version == snapshot.version) or now < self._retry_at:
            return False
        try:
            update = None if whole else self._source.update(snapshot, version, self._mark)
            if update is None:
                fresh, self._mark = self._source.build(version)
                self._whole_at = self._clock()
            else:
                fresh, self._mark = update
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if error != self.last_error:
                log.warning("snapshot rebuild failed, keeping the old one: %s", error)
            self.last_error = error
            self._retry_at = now + RETRY_AFTER_FAILURE
            self._database_failed(exc)
            if self._on_failure is not None:
                self._on_failure()
            return False
        # One assignment: a decision sees the old snapshot or the new one, never a mix.
        self._snapshot, self._built_at = fresh, self._clock()
        self._forced = False
        self.last_error = None
        self.reloads += 1
        if self._on_reload is not None:
            self._on_reload(fresh)
        return True

    def _database_failed(self, exc: Exception) -> None:
        self.database.failed(exc)
        # A broken connection must not be reused: the next poll connects afresh, so /health
        # turns "ok" as soon as the database answers again. (Not inside a transaction: only a
        # test calls refresh() inside one.)
        if not connection.in_atomic_block:
            connection.close()


class Refresher:
    """The background thread of one decision process: refreshes the snapshot every
    `interval` seconds and runs the other periodic `checks` (Redis) every `check_every`."""

    def __init__(
        self,
        holder: SnapshotHolder,
        *,
        interval: float = 0.25,
        checks: tuple[Callable[[], None], ...] = (),
        check_every: float = 1.0,
    ) -> None:
        self.holder = holder
        self._interval = interval
        self._checks = checks
        self._check_every = check_every
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gk-refresher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        next_checks = 0.0
        while not self._stopped.is_set():
            try:
                self.holder.refresh()
                if time.monotonic() >= next_checks:
                    next_checks = time.monotonic() + self._check_every
                    for check in self._checks:
                        check()
            except Exception:
                # This thread is what keeps the snapshot fresh: it must outlive any failure.
                log.exception("snapshot refresher failed; trying again")
            self._stopped.wait(self._interval)
        connection.close()
