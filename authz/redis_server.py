"""The Redis that holds nonces and rate-limit counters: one client per process, and what the
server must be for those to stay exact.

- Version: the commands used are `SET ... NX EX`, `EVALSHA`/`SCRIPT LOAD` and `INFO`; the
  rate-limit script relies on Redis 5's effects replication. An older server is refused at
  start with a message that says so.
- `maxmemory-policy`: a nonce or a counter that Redis evicts under memory pressure is a replay
  accepted or a limit reset. `noeviction` (the default) is right; any `allkeys-*` or
  `volatile-*` policy can drop them, so the decision server warns at start, `/health` carries
  the warning, and `manage.py check --deploy` reports it (authz.W002).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

T = TypeVar("T")
MIN_VERSION = (5, 0)
SAFE_POLICIES = frozenset({"noeviction"})


class RedisTooOld(Exception):
    """The server lacks a command the decision path uses."""


@dataclass(frozen=True)
class ServerFacts:
    version: str
    policy: str

    @property
    def warning(self) -> str | None:
        if self.policy in SAFE_POLICIES:
            return None
        return (
            f"Redis maxmemory-policy is {self.policy}: under memory pressure Redis may evict "
            "HMAC nonces (replays would pass) and rate-limit counters; set it to noeviction"
        )


def connect(url: str, *, timeout: float = 0.5) -> redis.Redis:
    """A client for the decision path: short timeouts and no retries, because redis-py's
    default backoff would hold a decision for seconds in an outage, longer than the proxy
    waits; the failure policy answers at once instead."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def inspect(client: redis.Redis) -> ServerFacts:
    """Read the server's version and eviction policy; raise RedisTooOld below MIN_VERSION."""
    server = client.info("server")
    memory = client.info("memory")
    version = str(server.get("redis_version", "0"))
    if parse_version(version) < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        raise RedisTooOld(
            f"Redis {version} is too old: Gatekeeper needs Redis {wanted} or newer "
            "(SET NX EX, EVALSHA with effects replication)"
        )
    return ServerFacts(version=version, policy=str(memory.get("maxmemory_policy", "unknown")))


def parse_version(version: str) -> tuple[int, ...]:
    """(major, minor) of a Redis version string."""
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


class RedisUnavailable(Exception):
    """Redis failed a moment ago: not asked again until the cool-off has passed."""


class Breaker:
    """Stops asking a Redis that just failed, for `cool_off` seconds.

    The decision server runs each decision on its event loop, so a Redis that hangs would hold
    every decision of the worker for the socket timeout, one after another. After a failure the
    breaker answers at once (the failure policy decides: API keys go on, HMAC is denied) and
    lets one call through per cool-off to see whether Redis is back. So a hanging Redis costs
    at most one timeout per cool-off per worker.
    """

    def __init__(
        self, *, cool_off: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._cool_off = cool_off
        self._clock = clock
        self._retry_at = 0.0

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._retry_at and self._clock() < self._retry_at:
            raise RedisUnavailable("Redis failed a moment ago")
        try:
            result = fn(*args, **kwargs)
        except Exception:
            self._retry_at = self._clock() + self._cool_off
            raise
        self._retry_at = 0.0
        return result
