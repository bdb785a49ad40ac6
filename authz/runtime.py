"""The per-process objects of the decision path, built once from settings.

Settings are read here, when the runtime is first used, and again after `setting_changed`
(tests), never per decision.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.backoff import NoBackoff
from redis.retry import Retry

from authz import metrics
from authz.decision_log import DecisionLog
from authz.engine import EngineConfig
from authz.nonces import NonceStore
from authz.ratelimit import Counters, LocalCounters, RateLimiter, RedisCounters
from authz.snapshot import SnapshotHolder
from authz.usage import UsageRecorder
from core import config_version
from core.networks import Network, parse_networks, peer_in


@dataclass(frozen=True)
class Runtime:
    holder: SnapshotHolder
    nonces: NonceStore
    limiter: RateLimiter
    usage: UsageRecorder
    decisions: DecisionLog
    config: EngineConfig
    trusted: tuple[Network, ...]

    @lru_cache(maxsize=1024)  # noqa: B019 - one Runtime per process; peers are few
    def is_trusted(self, peer: str) -> bool:
        return peer_in(peer, self.trusted)


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    runtime = _runtime
    if runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = _build()
            runtime = _runtime
    return runtime


def _build() -> Runtime:
    return Runtime(
        holder=SnapshotHolder(current_version=config_version.ensure),
        nonces=NonceStore(cache),
        limiter=RateLimiter(
            _counters(),
            fail_open=settings.GATEKEEPER_RATE_LIMIT_FAIL_OPEN,
            on_error=partial(metrics.count_cache_error, metrics.CacheOperation.RATE_LIMIT),
        ),
        usage=UsageRecorder(),
        decisions=_decision_log(),
        config=EngineConfig(
            query_params=tuple(settings.GATEKEEPER_API_KEY_QUERY_PARAMS),
            max_skew=settings.GATEKEEPER_HMAC_MAX_SKEW,
            hmac_fail_open=settings.GATEKEEPER_HMAC_FAIL_OPEN,
        ),
        trusted=parse_networks(settings.GATEKEEPER_TRUSTED_PROXIES),
    )


def reset() -> None:
    """Forget the runtime: the next decision rebuilds it (and its snapshot) from scratch."""
    global _runtime
    old, _runtime = _runtime, None
    if old is not None:
        old.usage.stop()
        old.decisions.stop()


def _decision_log() -> DecisionLog:
    decisions = DecisionLog(
        allow_sample=settings.GATEKEEPER_AUDIT_ALLOW_SAMPLE,
        queue_size=settings.GATEKEEPER_AUDIT_QUEUE_SIZE,
    )
    decisions.on_drop = metrics.AUDIT_DROPPED.inc
    decisions.on_depth = metrics.AUDIT_QUEUE_DEPTH.set
    return decisions


def _counters() -> Counters:
    if not settings.REDIS_URL:
        return LocalCounters(time.monotonic)
    # No retries: redis-py's default backoff would hold a decision for seconds in an outage,
    # longer than the proxy waits; the failure policy answers at once instead.
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    return RedisCounters(client, prefix=settings.CACHES["default"].get("KEY_PREFIX", "gk"))


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("GATEKEEPER_") or setting == "CACHES":
        reset()
