"""Rate limits (design §5, §7): fixed-window counters in the shared store.

Each limit of a client (every route together, or one route) counts decisions per window in a
counter keyed by client, scope, window length and window start. A check increments every
counter that applies in one atomic step (one EVALSHA of a small Lua script: INCR each counter,
EXPIRE it when it is new), so N processes sharing Redis allow exactly `limit` decisions per
window, never more, for one round trip and one command per decision. A fixed
window allows up to twice the limit across a window boundary; that inexactness is accepted
for one round trip per decision.

When the store is unreachable the policy is decided here, once: fail open (decide without
limits, the default) or closed (raise, and the edge denies with a 500).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from authz.redis_server import Breaker
from authz.snapshot import ClientEntry, Limit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Usage:
    """The tightest applicable limit after this decision counted."""

    limit: int
    remaining: int  # negative once exceeded
    reset: float  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    @property
    def reset_seconds(self) -> int:
        return max(1, math.ceil(self.reset))


class RateLimitUnavailable(Exception):
    """The counters could not be reached and the policy is to fail closed."""


class Counters(Protocol):
    def hit(self, keys: Sequence[tuple[str, int]]) -> list[int]:
        """Increment each (key, ttl seconds) counter at once; return the new counts."""

    def peek(self, keys: Sequence[str]) -> list[int]:
        """The current counts, without counting (0 for a window nobody used)."""


# INCR every counter; a counter that this call created gets its window as its TTL (later hits
# never extend it). One script, so the whole check is one atomic command.
_HIT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then
    redis.call('EXPIRE', key, ARGV[i])
  end
  counts[i] = count
end
return counts
"""


class RedisCounters:
    """Counters in Redis, shared by every process and instance."""

    def __init__(self, client: object, prefix: str, breaker: Breaker | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker or Breaker()
        self._hit = client.register_script(_HIT_SCRIPT)  # type: ignore[attr-defined]

    def hit(self, keys: Sequence[tuple[str, int]]) -> list[int]:
        names = [f"{self._prefix}:{key}" for key, _ in keys]
        counts = self._breaker.call(self._hit, keys=names, args=[ttl for _, ttl in keys])
        return [int(count) for count in counts]

    def peek(self, keys: Sequence[str]) -> list[int]:
        names = [f"{self._prefix}:{key}" for key in keys]
        values = self._client.mget(names)  # type: ignore[attr-defined]
        return [int(value or 0) for value in values]


class LocalCounters:
    """Counters in this process: exact for the single-process embedded default only."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def hit(self, keys: Sequence[tuple[str, int]]) -> list[int]:
        now = self._clock()
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            counts = []
            for key, ttl in keys:
                count, expires = self._counts.get(key, (0, now + ttl))
                if expires <= now:
                    count, expires = 0, now + ttl
                self._counts[key] = (count + 1, expires)
                counts.append(count + 1)
            return counts

    def peek(self, keys: Sequence[str]) -> list[int]:
        now = self._clock()
        with self._lock:
            found = [self._counts.get(key, (0, now)) for key in keys]
        return [count if expires > now else 0 for count, expires in found]


class RateLimiter:
    def __init__(
        self,
        counters: Counters,
        *,
        fail_open: bool,
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self._counters = counters
        self._fail_open = fail_open
        self._on_error = on_error
        self._failing = False

    def check(self, client: ClientEntry, route_id: int, now: float) -> Usage | None:
        """Count this decision against every limit that applies; None when none does (or
        when the store is down and the policy is to fail open)."""
        limits = [lim for lim in client.limits if lim.route_id in (None, route_id)]
        if not limits:
            return None
        starts = [int(now // lim.window) * lim.window for lim in limits]
        keys = [
            (_key(client.id, lim, start), lim.window + 1)
            for lim, start in zip(limits, starts, strict=True)
        ]
        try:
            counts = self._counters.hit(keys)
        except Exception as exc:
            return self._unavailable(exc)
        if self._failing:
            self._failing = False
            log.warning("rate-limit store is back; limits apply again")
        usages = [
            Usage(lim.limit, lim.limit - count, start + lim.window - now)
            for lim, start, count in zip(limits, starts, counts, strict=True)
        ]
        # The tightest: an exceeded one first (the longest wait), else the fewest remaining.
        return min(usages, key=lambda u: (not u.exceeded, u.remaining, -u.reset))

    def usage(self, client_id: str, limits: Sequence[Limit], now: float) -> list[int] | None:
        """How much of each limit's current window is used, without counting a decision
        (the admin's client page). None when the store cannot be reached."""
        keys = [_key(client_id, lim, int(now // lim.window) * lim.window) for lim in limits]
        try:
            return self._counters.peek(keys) if keys else []
        except Exception:
            return None

    def _unavailable(self, exc: Exception) -> None:
        if self._on_error is not None:
            self._on_error()
        if not self._failing:
            # Once per outage, not once per decision.
            self._failing = True
            policy = "deciding without limits" if self._fail_open else "denying"
            log.error("rate-limit store unreachable (%s): %s", type(exc).__name__, policy)
        if not self._fail_open:
            raise RateLimitUnavailable(type(exc).__name__) from exc
        return


def _key(client_id: str, limit: Limit, start: int) -> str:
    scope = "all" if limit.route_id is None else str(limit.route_id)
    return f"gatekeeper:rl:{client_id}:{scope}:{limit.window}:{start}"
