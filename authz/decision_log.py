"""Decision audit: a log line for every deny (and a sample of allows), and a `DecisionRecord`
row for each, written off the request path.

`DecisionLog.record` runs on the request path for every decision. It never touches the
database and never waits: it writes the log line and puts the row on a bounded queue. A daemon
thread writes the queue in batches, at least once a second. A full queue or a failing
database drops rows and counts them (`dropped`, `on_drop`) instead of slowing `/authz`.

What is written never holds a secret: the normalised path, never the query (the log line only
says that there was one).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import queue
import random
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypedDict

from django.db import connection, transaction

from audit.models import DecisionRecord
from authz.engine import Decision, RequestFacts
from core.redaction import REDACTED

log = logging.getLogger("gatekeeper.decisions")
writer_log = logging.getLogger(__name__)

BATCH_SIZE = 500
FLUSH_INTERVAL = 1.0
# Values in a log line that need no quoting: they cannot forge a field or a line.
_BARE = re.compile(r"[A-Za-z0-9._:/*@+~,\[\]-]+")


class Row(TypedDict):
    """The fields of one `DecisionRecord`, as queued for the writer."""

    time: datetime
    reason: str
    detail: str
    client_id: str | None
    client_name: str
    route_id: int | None
    route_label: str
    method: str
    host: str
    path: str
    source_ip: str | None
    shape: str


def _text(value: str | None, field: str) -> str:
    """Fit a request-supplied value to its column. PostgreSQL refuses NUL in text, and one
    refused row would lose its whole batch."""
    if not value:
        return ""
    limit = DecisionRecord._meta.get_field(field).max_length
    return value[:limit].replace("\x00", "")


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _quoted(value: object) -> str:
    text = "" if value is None else str(value)
    return text if _BARE.fullmatch(text) else json.dumps(text)


class DecisionLog:
    """One per process (built by `authz.runtime`). Thread-safe."""

    def __init__(
        self,
        *,
        allow_sample: float,
        queue_size: int,
        batch_size: int = BATCH_SIZE,
        interval: float = FLUSH_INTERVAL,
        background: bool = True,
    ) -> None:
        """`background=False`: no writer thread; rows are written only by `flush()` (tests
        that must write inside their own transaction)."""
        self.allow_sample = allow_sample
        # Metrics hooks: `on_drop(n)` when rows are lost, `on_depth(n)` after each write cycle.
        self.on_drop: Callable[[int], None] | None = None
        self.on_depth: Callable[[int], None] | None = None
        self._queue: queue.Queue[Row] = queue.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._interval = interval
        self._background = background
        self._dropped = 0
        self._written = 0
        self._count_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self._dropped_at_failure = 0

    # --- the request path ----------------------------------------------------------------

    def record(
        self,
        decision: Decision,
        facts: RequestFacts | None,
        *,
        shape: str,
        peer: str,
        now: float,
        source_ip: str | None = None,
    ) -> None:
        """Audit one decision: every deny, and `allow_sample` of the allows.

        `peer` is the address that asked (the proxy); `source_ip` the client address that a
        trusted proxy reported, when the caller has one (the row keeps it if it is an
        address, else the peer).
        """
        if decision.allowed and not (
            self.allow_sample > 0 and random.random() < self.allow_sample  # noqa: S311 - sampling
        ):
            return
        # What a proxy forwards may be anything: the column keeps only a real address.
        source = _address(source_ip) or _address(peer)
        row = self._row(decision, facts, shape=shape, source=source, now=now)
        if log.isEnabledFor(logging.INFO):
            self._log_line(decision, facts, row, peer)
        if self._stopped.is_set():
            self._drop(1)
            return
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._drop(1)
            return
        if self._thread is None and self._background:
            self._start_writer()
        elif self._queue.qsize() >= self._batch_size:
            # A burst: write a full batch now rather than at the next tick.
            self._wake.set()

    def _row(
        self,
        decision: Decision,
        facts: RequestFacts | None,
        *,
        shape: str,
        source: str | None,
        now: float,
    ) -> Row:
        client, route = decision.client, decision.route
        # A malformed request has no normalised host or path: keep what the proxy sent,
        # cut before the query.
        host = decision.host if decision.host is not None else (facts.host if facts else "")
        if decision.path is not None:
            path = decision.path
        else:
            path = facts.target.partition("?")[0] if facts else ""
        return Row(
            time=datetime.fromtimestamp(now, tz=UTC),
            reason=str(decision.reason),
            detail=str(decision.detail or ""),
            client_id=client.id if client else None,
            client_name=_text(client.name, "client_name") if client else "",
            route_id=route.id if route else None,
            route_label=_text(f"{route.domain}{route.pattern}", "route_label") if route else "",
            method=_text(facts.method if facts else "", "method"),
            host=_text(host, "host"),
            path=_text(path, "path"),
            source_ip=source,
            shape=shape,
        )

    def _log_line(
        self, decision: Decision, facts: RequestFacts | None, row: Row, peer: str
    ) -> None:
        fields = {
            "reason": row["reason"],
            "detail": row["detail"] or "-",
            "client": row["client_id"] or "-",
            "client_name": row["client_name"] or "-",
            "route": row["route_id"] if row["route_id"] is not None else "-",
            "method": row["method"] or "-",
            "host": row["host"] or "-",
            "path": row["path"] or "-",
            # Never the query itself, only that there was one: any name or value in it may be
            # a key (an `API_KEY=` that no reader takes is still someone's key).
            "query": REDACTED if facts is not None and "?" in facts.target else "-",
            "source_ip": row["source_ip"] or "-",
            "via": row["shape"],
        }
        if peer != row["source_ip"]:
            fields["peer"] = peer or "-"
        verdict = "allow" if decision.allowed else "deny"
        line = " ".join(f"{key}={_quoted(value)}" for key, value in fields.items())
        # `decision` carries the same fields for a structured (JSON) formatter.
        log.info("%s %s", verdict, line, extra={"decision": {"verdict": verdict, **fields}})

    def _drop(self, count: int) -> None:
        with self._count_lock:
            self._dropped += count
        if self.on_drop is not None:
            self.on_drop(count)

    # --- the writer ----------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Rows lost so far: queue full, database failed, or the log was stopped."""
        return self._dropped

    @property
    def written(self) -> int:
        """Rows written so far."""
        return self._written

    def depth(self) -> int:
        """Rows waiting for the writer."""
        return self._queue.qsize()

    def flush(self) -> int:
        """Write every row queued so far, now, on the caller's connection; returns how many
        were written. The writer thread calls this at least every `interval` seconds."""
        written = 0
        with self._flush_lock:
            # Only what is queued now: under a steady stream this would never end.
            pending = self._queue.qsize()
            while pending > 0:
                batch = self._take(min(pending, self._batch_size))
                if not batch:
                    break
                pending -= len(batch)
                written += self._write(batch)
            self._written += written
        return written

    def stop(self) -> None:
        """End the writer thread. Rows still queued are dropped (and counted)."""
        self._stopped.set()
        self._wake.set()
        self._drop(len(self._take(self._queue.qsize())))

    def _take(self, count: int) -> list[Row]:
        batch: list[Row] = []
        while len(batch) < count:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[Row]) -> int:
        try:
            # A savepoint when flushed inside a transaction (tests): a failed batch must not
            # break the caller's transaction.
            with transaction.atomic():
                DecisionRecord.objects.bulk_create([DecisionRecord(**row) for row in batch])
        except Exception as exc:
            # Whatever failed, the writer lives on: a dead writer would end the audit silently.
            # The type only, once per outage: the message may repeat row values.
            self._drop(len(batch))
            if not self._failing:
                self._failing = True
                self._dropped_at_failure = self._dropped - len(batch)
                writer_log.warning(
                    "decision audit rows cannot be written (%s); dropping them until the "
                    "database is back",
                    type(exc).__name__,
                )
            return 0
        if self._failing:
            self._failing = False
            writer_log.warning(
                "decision audit rows are written again; %d were dropped meanwhile",
                self._dropped - self._dropped_at_failure,
            )
        return len(batch)

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._stopped.is_set():
                return
            # Started lazily, so it runs in the gunicorn worker, not in the master.
            self._thread = threading.Thread(target=self._run, name="gk-decision-log", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stopped.is_set():
                return
            self.flush()
            # This thread's connection must not outlive the batch (a database that went
            # away, a test database being dropped).
            connection.close()
            if self.on_depth is not None:
                self.on_depth(self.depth())
