"""How much of each rate limit's current window is used: what the admin's client page and the
REST API's rate limits show. Read from the live counters (Redis, or this process's memory in
the embedded default), never counted up: reading a limit's usage does not use it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from authz.runtime import get_runtime
from authz.snapshot import Limit
from permissions.models import RateLimit


@dataclass(frozen=True)
class LimitUsage:
    rate_limit: RateLimit
    used: int | None  # None: the counters cannot be read now

    @property
    def remaining(self) -> int | None:
        return None if self.used is None else max(0, self.rate_limit.limit - self.used)


def limit_usage(rate_limits: Iterable[RateLimit]) -> list[LimitUsage]:
    """Each limit with how much of its current window is used (one read per client)."""
    by_client: dict[str, list[RateLimit]] = {}
    for row in rate_limits:
        by_client.setdefault(str(row.client_id), []).append(row)
    limiter, now = get_runtime().limiter, time.time()
    found: list[LimitUsage] = []
    for client_id, rows in by_client.items():
        limits = [Limit(row.route_id, row.limit, row.window_seconds) for row in rows]
        used = limiter.usage(client_id, limits, now)
        found.extend(
            LimitUsage(row, used[index] if used is not None else None)
            for index, row in enumerate(rows)
        )
    return found
