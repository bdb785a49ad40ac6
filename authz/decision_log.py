"""Decision audit: a log line for every deny (and a sample of allows), and a `DecisionRecord`
row for each, handed off durably and written off the request path.

`DecisionLog.record` runs on the request path for every decision. It never touches the
database and never waits on it: it counts the decision for the per-minute rollup, writes the
log line and appends the row to the audit spool (authz/audit_spool.py), a local file that
outlives the process. A writer thread copies the spool into the database at least once a
second; while the database is down the rows wait in the spool, up to a bound, and are written
when it returns. Rows that cannot be kept are counted (`dropped`, `on_drop`).

A flood of denials from one source (an attacker adds a row per deny) is sampled beyond
`deny_rate` rows a second per source address: the rest are counted (`on_sample`), not written,
so the flood cannot fill the disk or the table.

What is written never holds a secret: the normalised path, never the query (the log line only
says that there was one).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from audit.models import DecisionRecord
from authz.audit_spool import Spool
from authz.engine import Decision, RequestFacts
from authz.spool_writer import SpoolWriter
from core.redaction import REDACTED

log = logging.getLogger("gatekeeper.decisions")
writer_log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.5
# Sources tracked for the per-source deny cap before the table is started afresh.
MAX_SOURCES = 10_000
# Values in a log line that need no quoting: they cannot forge a field or a line.
_BARE = re.compile(r"[A-Za-z0-9._:/*@+~,\[\]-]+")


class Row(TypedDict):
    """The fields of one `DecisionRecord`, as spooled for the writer (time: epoch seconds)."""

    time: float
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


def to_record(row: dict) -> DecisionRecord:
    return DecisionRecord(**{**row, "time": datetime.fromtimestamp(row["time"], tz=UTC)})


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


class DenyCap:
    """A token bucket per source address: `rate` rows a second, bursts of `rate` * 2.

    Per process, so N decision processes write up to N times the rate: an accepted
    inexactness, since the point is a bound on the disk, not an exact quota."""

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(rate * 2)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allows(self, source: str) -> bool:
        now = self._clock()
        if len(self._buckets) >= MAX_SOURCES and source not in self._buckets:
            self._buckets.clear()
        tokens, last = self._buckets.get(source, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[source] = (tokens, now)
            return False
        self._buckets[source] = (tokens - 1.0, now)
        return True


class DecisionLog(SpoolWriter):
    """One per decision process (built by `authz.runtime`). Thread-safe."""

    def __init__(
        self,
        *,
        allow_sample: float,
        capacity: int,
        spool_dir: Path,
        deny_rate: int,
        interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.allow_sample = allow_sample
        # Metrics hooks: rows lost (`on_drop(n)`), denials not written beyond the per-source
        # rate (`on_sample(n)`), rows waiting after each write cycle (`on_depth(n)`).
        self.on_drop: Callable[[int], None] | None = None
        self.on_sample: Callable[[int], None] | None = None
        self.on_depth: Callable[[int], None] | None = None
        # Per-minute counts of every decision, by reason, for the dashboard's rollup.
        self.on_counts: Callable[[dict[tuple[datetime, str], int]], None] | None = None
        super().__init__(
            Spool(spool_dir, capacity=capacity, to_record=to_record, on_drop=self._lost),
            interval=interval,
            name="gk-decision-log",
            what="decision audit rows",
            log=writer_log,
        )
        self._cap = DenyCap(deny_rate)
        self._counts: dict[tuple[int, str], int] = {}
        self._lock = threading.Lock()
        self.sampled = 0

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
        minute = int(now // 60) * 60
        key = (minute, decision.reason.value)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            sampled_in = self.allow_sample > 0 and random.random() < self.allow_sample  # noqa: S311
            if decision.allowed and not sampled_in:
                return
            # What a proxy forwards may be anything: the column keeps only a real address.
            source = _address(source_ip) or _address(peer)
            if not decision.allowed and not self._cap.allows(source or ""):
                self.sampled += 1
                if self.on_sample is not None:
                    self.on_sample(1)
                return
        row = self._row(decision, facts, shape=shape, source=source, now=now)
        if log.isEnabledFor(logging.INFO):
            self._log_line(decision, facts, row, peer)
        self.spool.append(dict(row))

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
            time=now,
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

    def _lost(self, count: int) -> None:
        if self.on_drop is not None:
            self.on_drop(count)

    # --- the writer ----------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Rows lost so far: the spool was full or unwritable, or a line was unreadable."""
        return self.spool.dropped

    @property
    def written(self) -> int:
        return self.spool.copied

    def depth(self) -> int:
        """Rows of this process waiting in the spool."""
        return self.spool.pending

    def health(self) -> dict[str, int]:
        return {
            "waiting": self.depth(),
            "written": self.written,
            "dropped": self.dropped,
            "sampled": self.sampled,
        }

    def flush(self) -> int:
        """Write what is spooled now (and the per-minute counts); returns rows written.
        Raises when the database fails; nothing is lost then."""
        with self._lock:
            counts, self._counts = self._counts, {}
        try:
            if counts and self.on_counts is not None:
                self.on_counts(
                    {(datetime.fromtimestamp(m, tz=UTC), r): n for (m, r), n in counts.items()}
                )
        except Exception:
            with self._lock:
                for key, value in counts.items():
                    self._counts[key] = self._counts.get(key, 0) + value
            raise
        return self.spool.drain()

    def after_cycle(self) -> None:
        if self.on_depth is not None:
            self.on_depth(self.depth())
