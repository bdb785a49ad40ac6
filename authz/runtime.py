"""The per-process objects of the decision path, built once from settings.

Settings are read here, when the runtime is first used, and again after `setting_changed`
(tests), never per decision. `start()` is for a decision server process: it builds the first
snapshot before the process takes traffic and starts the background threads; the in-process
uses (tests, `explain_request`) refresh the snapshot themselves.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from audit.services import add_decision_counts
from authz import metrics, observers, redis_server
from authz.decision_log import DecisionLog
from authz.engine import EngineConfig
from authz.nonces import CountingErrors, LocalNonces, Nonces, RedisNonces
from authz.ratelimit import Counters, LocalCounters, RateLimiter, RedisCounters
from authz.refresh import Probe, Refresher, SnapshotHolder
from authz.single_process import hold_embedded_lock
from authz.usage import UsageRecorder
from core import config_version
from core.networks import Network, parse_networks, peer_in


@dataclass
class RedisState:
    """The shared store, when REDIS_URL is set: the client, what the server is, and whether it
    answered the last periodic ping (for /health)."""

    client: Any
    probe: Probe
    warning: str | None = None

    def ping(self) -> None:
        self.probe.begin()
        try:
            self.client.ping()
        except Exception as exc:
            self.probe.failed(exc)
        else:
            self.probe.ok()


@dataclass(eq=False)
class Runtime:
    holder: SnapshotHolder
    nonces: Nonces
    limiter: RateLimiter
    usage: UsageRecorder
    decisions: DecisionLog
    config: EngineConfig
    trusted: tuple[Network, ...]
    redis: RedisState | None
    # The one-process store, when there is no Redis: kept across restarts (saved at stop).
    local_nonces: LocalNonces | None = None
    refresher: Refresher = field(init=False)

    def __post_init__(self) -> None:
        checks = (self.redis.ping,) if self.redis is not None else ()
        self.refresher = Refresher(self.holder, checks=checks)

    @lru_cache(maxsize=1024)  # noqa: B019 - one Runtime per process; peers are few
    def is_trusted(self, peer: str) -> bool:
        return peer_in(peer, self.trusted)

    def start(self) -> None:
        """Make this process a decision server: take the single-process lock when there is no
        shared store, check Redis, build the first snapshot, start the background threads."""
        if self.redis is None:
            hold_embedded_lock(settings.GATEKEEPER_STATE_DIR)
            if self.local_nonces is not None:
                self.local_nonces.load(_nonces_file())
        else:
            facts = redis_server.inspect(self.redis.client)
            self.redis.warning = facts.warning
            self.redis.ping()
        self.holder.refresh()
        self.refresher.start()
        self.decisions.start()
        observers.start()

    def stop(self) -> None:
        self.refresher.stop()
        self.usage.stop()
        self.decisions.stop()
        observers.stop()

    def save_state(self) -> None:
        """What a decision server's next process needs (before this one lets go of the lock)."""
        if self.local_nonces is not None:
            self.local_nonces.save(_nonces_file())


SPOOL_DIR = "audit-spool"
NONCES_FILE = "nonces.json"


def _nonces_file() -> Path:
    return Path(settings.GATEKEEPER_STATE_DIR) / NONCES_FILE


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
    redis = _redis()
    cache_error = metrics.count_cache_error
    local_nonces = None
    if redis is None:
        local_nonces = LocalNonces(time.monotonic)
        nonces: Nonces = local_nonces
        counters: Counters = LocalCounters(time.monotonic)
    else:
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "gk")
        breaker = redis_server.Breaker()
        nonces = RedisNonces(redis.client, prefix, breaker)
        counters = RedisCounters(redis.client, prefix=prefix, breaker=breaker)
    return Runtime(
        holder=SnapshotHolder(
            current_version=config_version.current,
            on_reload=lambda snap: metrics.snapshot_reloaded(snap.built_at),
            on_failure=metrics.snapshot_rebuild_failed,
        ),
        nonces=CountingErrors(nonces, partial(cache_error, metrics.CacheOperation.NONCE)),
        limiter=RateLimiter(
            counters,
            fail_open=settings.GATEKEEPER_RATE_LIMIT_FAIL_OPEN,
            on_error=partial(cache_error, metrics.CacheOperation.RATE_LIMIT),
        ),
        usage=UsageRecorder(),
        decisions=_decision_log(),
        config=EngineConfig(
            query_params=tuple(settings.GATEKEEPER_API_KEY_QUERY_PARAMS),
            max_skew=settings.GATEKEEPER_HMAC_MAX_SKEW,
            hmac_fail_open=settings.GATEKEEPER_HMAC_FAIL_OPEN,
        ),
        trusted=parse_networks(settings.GATEKEEPER_TRUSTED_PROXIES),
        redis=redis,
        local_nonces=local_nonces,
    )


def _redis() -> RedisState | None:
    if not settings.REDIS_URL:
        return None
    client = redis_server.connect(settings.REDIS_URL, timeout=settings.GATEKEEPER_REDIS_TIMEOUT)
    return RedisState(client=client, probe=Probe(time.monotonic))


def reset() -> None:
    """Forget the runtime: the next decision rebuilds it (and its snapshot) from scratch."""
    global _runtime
    old, _runtime = _runtime, None
    if old is not None:
        old.stop()


def _decision_log() -> DecisionLog:
    decisions = DecisionLog(
        allow_sample=settings.GATEKEEPER_AUDIT_ALLOW_SAMPLE,
        capacity=settings.GATEKEEPER_AUDIT_QUEUE_SIZE,
        spool_dir=Path(settings.GATEKEEPER_STATE_DIR) / SPOOL_DIR,
        deny_rate=settings.GATEKEEPER_AUDIT_DENY_RATE,
        interval=settings.GATEKEEPER_AUDIT_FLUSH_SECONDS,
    )
    decisions.on_drop = metrics.AUDIT_DROPPED.inc
    decisions.on_sample = metrics.AUDIT_SAMPLED.inc
    decisions.on_depth = metrics.AUDIT_QUEUE_DEPTH.set
    decisions.on_counts = add_decision_counts
    return decisions


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("GATEKEEPER_") or setting in ("CACHES", "REDIS_URL"):
        reset()
