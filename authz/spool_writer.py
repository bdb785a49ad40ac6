"""The thread that copies a spool (authz/audit_spool.py) into the database, for the decision
audit and for the webhook hand-off alike.

A cycle runs at once (rows a dead predecessor left in the spool are adopted at start), then
every `interval` seconds. A failing cycle is logged once per outage and never ends the thread:
a dead writer would end the audit silently. A graceful stop writes what it can within
`stop_drain_seconds`; the rest stays in the spool for the next writer (never lost).
"""

from __future__ import annotations

import logging
import threading
import time

from authz.audit_spool import Spool, close_connection

STOP_DRAIN_SECONDS = 5.0


class SpoolWriter:
    """Subclasses say what a cycle writes (`flush`) and may act after each (`after_cycle`)."""

    stop_drain_seconds = STOP_DRAIN_SECONDS

    def __init__(
        self, spool: Spool, *, interval: float, name: str, what: str, log: logging.Logger
    ) -> None:
        self.spool = spool
        self._interval = interval
        self._name = name  # the thread's
        self._what = what  # what the log lines say cannot be written: "decision audit rows"
        self._log = log
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def flush(self) -> int:
        """One cycle's work; raises when the database fails (the rows stay in the spool)."""
        raise NotImplementedError

    def after_cycle(self) -> None:
        """Called after every cycle, whether it wrote or failed."""

    def start(self) -> None:
        if self._thread is None and not self._stopped.is_set():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End the writer: write what can be written within a few seconds; what is left stays
        in the spool for the next writer (never lost)."""
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.stop_drain_seconds + 1)
        self.spool.close()

    def _run(self) -> None:
        self._cycle()
        while not self._stopped.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self._cycle()
        deadline = time.monotonic() + self.stop_drain_seconds
        while self.spool.pending and time.monotonic() < deadline and self._cycle():
            pass

    def _cycle(self) -> bool:
        """One write cycle; False when the database failed."""
        try:
            self.flush()
        except Exception as exc:
            # The type only, once per outage: the message may repeat row values.
            if not self._failing:
                self._failing = True
                self._log.warning(
                    "%s cannot be written (%s); they wait in the spool until the database is back",
                    self._what,
                    type(exc).__name__,
                )
            return False
        finally:
            close_connection()
            self.after_cycle()
        if self._failing:
            self._failing = False
            self._log.warning("%s are written again", self._what)
        return True
