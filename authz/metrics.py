"""Gatekeeper's own Prometheus metrics, each defined once.

Every label is bounded by the code or by the configuration: reason, proxy shape, the method
rule's auth, cache operation, route id. Never a path, host, key, secret or client id: client
ids would grow with the customer list and name customers in every scrape; "which clients are
denied" is a question for the decision audit trail.

Under gunicorn each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR
(deploy/gunicorn.conf.py) and `/metrics` merges them (authz/metrics_view.py); a gauge's
`multiprocess_mode` says how the workers' values combine and is ignored outside that mode.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from authz.engine import Decision


class CacheOperation(enum.StrEnum):
    NONCE = "nonce"
    RATE_LIMIT = "rate_limit"


# Not a Reason: the request was not decided at all (an internal fault, answered 500 and denied).
INTERNAL_ERROR = "internal_error"

# A decision is a few dictionary lookups (tens of microseconds) plus, for some, one Redis round
# trip; past a second the proxy has given up, so finer buckets go at the low end.
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)

_SNAPSHOT_BUILT_NAME = "gatekeeper_snapshot_built_timestamp_seconds"
SNAPSHOT_AGE_NAME = "gatekeeper_snapshot_age_seconds"

DECISIONS = Counter(
    "gatekeeper_decisions",
    "Decisions by reason, proxy shape and the auth the method rule asks for (none before a "
    "rule matched, and for public rules).",
    ["reason", "shape", "auth"],
)
DECISIONS_BY_ROUTE = Counter(
    "gatekeeper_decisions_by_route",
    "Decisions on a matched route, by route id (as in the admin) and outcome (allow or deny).",
    ["route_id", "outcome"],
)
DECISION_SECONDS = Histogram(
    "gatekeeper_decision_seconds",
    "Time to decide one request, from reading the proxy's request to the decision.",
    ["shape"],
    buckets=LATENCY_BUCKETS,
)
SNAPSHOT_RELOADS = Counter(
    "gatekeeper_snapshot_reloads",
    "Snapshots swapped in: a patch after each config change, a whole build at start and every "
    "five minutes.",
)
SNAPSHOT_BUILT = Gauge(
    _SNAPSHOT_BUILT_NAME,
    "When each worker built the snapshot it decides from (0: none yet).",
    multiprocess_mode="liveall",
)
SNAPSHOT_FAILING = Gauge(
    "gatekeeper_snapshot_rebuild_failing",
    "1 while a worker cannot rebuild its snapshot (database unreachable) and decides from "
    "the one it has.",
    multiprocess_mode="livemax",
)
CACHE_ERRORS = Counter(
    "gatekeeper_cache_errors",
    "Shared-cache (Redis) operations that failed, by operation.",
    ["operation"],
)
AUDIT_QUEUE_DEPTH = Gauge(
    "gatekeeper_audit_queue_depth",
    "Decision audit rows waiting in the spool for the database (the sum over workers).",
    multiprocess_mode="livesum",
)
AUDIT_DROPPED = Counter(
    "gatekeeper_audit_dropped",
    "Decision audit rows lost: the spool was full (the database down for long) or could not "
    "be written, or a spooled line could not be read.",
)
AUDIT_SAMPLED = Counter(
    "gatekeeper_audit_sampled",
    "Denials not written to the audit because their source exceeded "
    "GATEKEEPER_AUDIT_DENY_RATE (counted in the decision metrics all the same).",
)

# Alert rules take rate() of these; a series that appears only with its first error would hide
# that first error from them.
for operation in CacheOperation:
    CACHE_ERRORS.labels(operation.value)


def observe_decision(decision: Decision, *, shape: str, seconds: float) -> None:
    """Count one decision answered through `shape` (a shapes.Shape name)."""
    reason = decision.reason
    DECISIONS.labels(reason.value, shape, decision.auth or "none").inc()
    DECISION_SECONDS.labels(shape).observe(seconds)
    if decision.route is not None:
        outcome = "allow" if reason.allows else "deny"
        DECISIONS_BY_ROUTE.labels(str(decision.route.id), outcome).inc()


def count_decision_fault(*, shape: str) -> None:
    """A decision that failed inside Gatekeeper (answered 500, denied)."""
    DECISIONS.labels(INTERNAL_ERROR, shape, "none").inc()


def count_cache_error(operation: str) -> None:
    """One failed shared-cache operation; `operation` is a CacheOperation value."""
    CACHE_ERRORS.labels(CacheOperation(operation).value).inc()


def snapshot_reloaded(built_at: float) -> None:
    """A worker swapped in a snapshot built at `built_at` (epoch seconds)."""
    SNAPSHOT_RELOADS.inc()
    SNAPSHOT_BUILT.set(built_at)
    SNAPSHOT_FAILING.set(0)


def snapshot_rebuild_failed() -> None:
    SNAPSHOT_FAILING.set(1)


class WithSnapshotAge(Collector):
    """Everything `source` collects, plus the age of the oldest snapshot any worker holds.

    Derived at scrape time from the built timestamps, so the age is right however long ago
    a worker last decided; workers without a snapshot yet are left out.
    """

    def __init__(self, source: Collector) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        built: list[float] = []
        for family in self._source.collect():
            if family.name == _SNAPSHOT_BUILT_NAME:
                built = [sample.value for sample in family.samples if sample.value > 0]
            yield family
        if built:
            yield GaugeMetricFamily(
                SNAPSHOT_AGE_NAME,
                "Seconds since the oldest snapshot any worker decides from was built.",
                value=max(0.0, time.time() - min(built)),
            )
