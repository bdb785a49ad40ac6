"""After the rows: did a decision server count a fault that would flatter its numbers?

A Redis call that timed out lets a rate-limited request through uncounted (fail-open) and
trips a breaker that skips Redis for a while; an internal error answers 500 at once. Either
makes a row cheaper than the work it claims to measure, so the run reads each decision
server's /metrics at its end and reports these counters when they are not zero.
"""

from __future__ import annotations

import http.client

CACHE_ERRORS = "gatekeeper_cache_errors_total"
DECISIONS = "gatekeeper_decisions_total"
INTERNAL_ERROR = 'reason="internal_error"'


def parse(text: str) -> dict[str, float]:
    """The watched samples of a Prometheus text page: `name{labels}` -> value."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        sample, _, value = line.rpartition(" ")
        watched = sample.startswith(CACHE_ERRORS) or (
            sample.startswith(DECISIONS + "{") and INTERNAL_ERROR in sample
        )
        if watched and float(value):
            found[sample] = float(value)
    return found


def read(port: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return parse(conn.getresponse().read().decode())
    finally:
        conn.close()
