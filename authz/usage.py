"""`last_used_at` of credentials, written off the request path, at most once a minute each.

The decision path only notes the use in memory; a background thread writes the notes in one
UPDATE per flush. A lost flush (database down) loses only these stamps, never a decision.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from django.db import connection

from clients.models import Credential

log = logging.getLogger(__name__)


class UsageRecorder:
    def __init__(self, interval: float = 60.0) -> None:
        self._interval = interval
        self._pending: dict[int, float] = {}
        self._noted_at: dict[int, float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def note(self, credential_id: int, now: float) -> None:
        if now - self._noted_at.get(credential_id, 0.0) < self._interval:
            return
        with self._lock:
            self._noted_at[credential_id] = now
            self._pending[credential_id] = now
            if self._thread is None and not self._stopped.is_set():
                # Started lazily, so it runs in the gunicorn worker, not in the master.
                self._thread = threading.Thread(target=self._run, name="gk-usage", daemon=True)
                self._thread.start()

    def flush(self) -> int:
        """Write the pending stamps; returns how many credentials were stamped."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        stamp = datetime.fromtimestamp(max(pending.values()), tz=UTC)
        try:
            # update() sends no signals, so a usage stamp never counts as a config change.
            Credential.objects.filter(id__in=list(pending)).update(last_used_at=stamp)
        except Exception:
            log.warning(
                "could not record credential use for %d credentials", len(pending), exc_info=True
            )
            return 0
        return len(pending)

    def stop(self) -> None:
        """End the background thread (pending stamps are dropped)."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval / 4):
            self.flush()
            # This thread's connection must not outlive the flush (a database that went
            # away, a test database being dropped).
            connection.close()
