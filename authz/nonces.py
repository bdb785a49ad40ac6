"""The replay store: an HMAC nonce is accepted once per client within its window.

`cache.add` is an atomic put-if-absent (Redis `SET NX`), so two processes racing with the
same nonce cannot both win. The engine claims a nonce only after the signature verified, or
anyone could burn a client's nonces.
"""

from __future__ import annotations

from typing import Protocol

from authz import metrics


class Cache(Protocol):
    def add(self, key: str, value: object, timeout: float | None = ...) -> bool: ...


class NonceStore:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        """True the first time (client, nonce) is seen within `ttl` seconds; raises when the
        shared cache is unreachable (the caller decides whether that fails closed)."""
        try:
            return bool(self._cache.add(f"gatekeeper:nonce:{client_id}:{nonce}", 1, timeout=ttl))
        except Exception:
            metrics.count_cache_error(metrics.CacheOperation.NONCE)
            raise
