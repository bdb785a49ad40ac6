"""The decision audit's durable hand-off: rows go to a local append-only file first, and a
writer thread copies them into the database.

Why a file: a row that waits in a worker's memory dies with the worker (a `kill -9`, a crash,
a reload that outruns the writer). A row appended to the spool is in the kernel's page cache
the moment `record` returns, so it survives the process; whoever writes next picks it up.

- Each decision process appends JSON lines to its own segment file under
  `GATEKEEPER_STATE_DIR/audit-spool/`, holding an exclusive `flock` on every segment it owns.
- Its writer thread copies new lines into `DecisionRecord` in batches. Each batch and the
  segment's read offset (`SpoolCursor`) are written in one transaction, so a batch is in the
  database exactly once, whoever wrote it and whenever the writer died.
- While the database is down, rows wait in the spool (up to `capacity` rows per process; more
  are dropped and counted) and are written when it returns.
- A segment whose lock can be taken has no living owner: any writer adopts it, copies what is
  left and deletes it (the kernel releases a dead process's locks, however it died).
- A graceful stop writes what it can within a few seconds; the rest stays for a successor.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from audit.models import DecisionRecord
from authz.models import SpoolCursor

log = logging.getLogger(__name__)

SEGMENT_BYTES = 8 * 1024 * 1024
BATCH_ROWS = 500
# No row's line is longer (the longest columns: a 2,000-character path, a 300-character label).
MAX_LINE = 4096
ADOPT_EVERY = 5.0
SUFFIX = ".jsonl"
LOCK_TIMEOUT_MS = 200


@dataclass
class _Segment:
    path: Path
    fd: int  # held open (and flock'ed) while this process owns the segment
    size: int = 0  # bytes appended
    offset: int = 0  # bytes already in the database
    sealed: bool = False  # no more appends; deleted once fully copied

    @property
    def name(self) -> str:
        return self.path.name


class Spool:
    """One per decision process. `append` is the request path; `drain` the writer's work.

    What a batch becomes is `_store`'s business: decision records here; a subclass may write
    other rows (webhooks hand their decision-driven events off through one)."""

    def __init__(
        self,
        directory: Path,
        *,
        capacity: int,
        to_record: Callable[[dict], Any],
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self._dir = directory
        self._capacity = capacity
        self._to_record = to_record
        self._on_drop = on_drop
        self._lock = threading.Lock()
        self._segments: list[_Segment] = []
        self._appended = 0  # rows appended by this process
        self._copied = 0  # rows copied to the database by this process (own or adopted)
        self._pending = 0  # own rows appended and not yet copied
        self.dropped = 0
        self._prefix = f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}"
        self._next_adopt = 0.0

    # --- the request path ----------------------------------------------------------------

    def append(self, row: dict) -> bool:
        """Hand one row off durably; False (and counted) when the spool is full or cannot be
        written (a full disk)."""
        line = (json.dumps(row, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            if self._pending >= self._capacity:
                self._drop(1)
                return False
            try:
                segment = self._current()
                # One write() of one line to an O_APPEND file: whole, or not at all.
                os.write(segment.fd, line)
            except OSError as exc:
                log.error("audit spool cannot be written (%s)", type(exc).__name__)
                self._drop(1)
                return False
            segment.size += len(line)
            self._appended += 1
            self._pending += 1
        return True

    def _current(self) -> _Segment:
        if self._segments and not self._segments[-1].sealed:
            current = self._segments[-1]
            if current.size < SEGMENT_BYTES:
                return current
            current.sealed = True
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._dir / f"{self._prefix}-{len(self._segments)}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        segment = _Segment(path, fd)
        self._segments.append(segment)
        return segment

    # --- the writer ----------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def copied(self) -> int:
        return self._copied

    def drain(self) -> int:
        """Copy every complete line of this process's segments to the database, then adopt
        orphans now and then; returns the rows copied. Raises when the database fails (the
        rows stay in the spool)."""
        copied = 0
        with self._lock:
            segments = list(self._segments)
        for segment in segments:
            while True:
                rows = self._copy(segment.path, segment.name, start=segment.offset)
                segment.offset = rows.offset
                copied += rows.count
                with self._lock:
                    self._pending -= rows.lines
                if rows.lines < BATCH_ROWS:
                    break
            if segment.sealed and segment.offset >= segment.size:
                self._retire(segment)
        if time.monotonic() >= self._next_adopt:
            self._next_adopt = time.monotonic() + ADOPT_EVERY
            copied += self._adopt_orphans()
        self._copied += copied
        return copied

    def close(self) -> None:
        """Release this process's segments (what is left in them stays for a successor)."""
        with self._lock:
            segments, self._segments = self._segments, []
        for segment in segments:
            with suppress(OSError):
                os.close(segment.fd)

    def _retire(self, segment: _Segment) -> None:
        # Sealed: no appends can come, so the lock is not needed until the list changes.
        SpoolCursor.objects.filter(segment=segment.name).delete()
        segment.path.unlink(missing_ok=True)
        with self._lock:
            self._segments.remove(segment)
        os.close(segment.fd)

    def _adopt_orphans(self) -> int:
        copied = 0
        for path in sorted(self._dir.glob(f"*{SUFFIX}")):
            if path.name.startswith(self._prefix):
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # another writer adopted and finished it
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its owner is alive, or another writer is adopting it
                cursor = SpoolCursor.objects.filter(segment=path.name).first()
                offset = cursor.offset if cursor else 0
                while True:
                    rows = self._copy(path, path.name, start=offset)
                    copied += rows.count
                    if rows.offset == offset:
                        break
                    offset = rows.offset
                if rows.partial:
                    # A line the dead owner never finished: it cannot be read, only counted.
                    self._drop(1)
                SpoolCursor.objects.filter(segment=path.name).delete()
                path.unlink(missing_ok=True)
                log.info("adopted %s from a process that is gone", path.name)
            finally:
                os.close(fd)
        return copied

    def _copy(self, path: Path, name: str, *, start: int) -> _Copied:
        """Write up to BATCH_ROWS complete lines from `start` in one transaction with the
        segment's cursor."""
        with path.open("rb") as handle:
            handle.seek(start)
            chunk = handle.read(BATCH_ROWS * MAX_LINE)
        lines, consumed = _complete_lines(chunk, BATCH_ROWS)
        partial = consumed < len(chunk) and len(lines) < BATCH_ROWS
        if not lines:
            return _Copied(0, 0, start, partial)
        records = []
        for line in lines:
            try:
                records.append(self._to_record(json.loads(line)))
            except (ValueError, TypeError, KeyError):
                self._drop(1)
        try:
            with transaction.atomic():
                _no_long_lock_waits()
                # The cursor's row lock makes two writers of one segment take turns; the
                # second finds the offset moved and rolls its copy back.
                self._store(records)
                cursor, _ = SpoolCursor.objects.select_for_update().get_or_create(segment=name)
                if cursor.offset != start:
                    raise _Moved(cursor.offset)
                cursor.offset = start + consumed
                cursor.save(update_fields=["offset"])
        except _Moved as moved:
            return _Copied(0, 0, moved.offset, False)
        return _Copied(len(records), len(lines), start + consumed, partial)

    def _store(self, records: list[Any]) -> None:
        """Write one batch, in the transaction that moves the segment's cursor."""
        DecisionRecord.objects.bulk_create(records)

    def _drop(self, count: int) -> None:
        self.dropped += count
        if self._on_drop is not None:
            self._on_drop(count)


class _Moved(Exception):
    """Another writer copied this part of the segment first."""

    def __init__(self, offset: int) -> None:
        self.offset = offset


@dataclass(frozen=True)
class _Copied:
    count: int  # rows written
    lines: int  # lines consumed (rows written, and any that could not be read)
    offset: int  # where the next copy starts
    partial: bool  # a line without its end follows them


def _complete_lines(chunk: bytes, limit: int) -> tuple[list[bytes], int]:
    lines: list[bytes] = []
    consumed = 0
    for line in _split(chunk):
        if len(lines) == limit:
            break
        lines.append(line)
        consumed += len(line) + 1
    return lines, consumed


def _split(chunk: bytes) -> Iterator[bytes]:
    start = 0
    while True:
        end = chunk.find(b"\n", start)
        if end < 0:
            return
        yield chunk[start:end]
        start = end + 1


def _no_long_lock_waits() -> None:
    """A batch that would wait long for a lock (a TRUNCATE, a bulk delete) gives up and is
    retried on the next cycle, rather than hold up, or deadlock with, the other work."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")


def close_connection() -> None:
    """The writer thread's connection must not outlive its batch (a database that went away,
    a test database being dropped)."""
    connection.close()
