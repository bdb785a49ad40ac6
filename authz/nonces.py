"""The replay store: an HMAC nonce is accepted once per client within its window.

Nonces never go to a store that may forget them early: an evicted nonce is a replay waiting to
happen (an LRU cache of 300 entries let a captured request replay after 300 other signed
requests). Two stores, both exact for their setting:

- `LocalNonces`: this process only, for the one-process embedded default (saved to the state
  directory when the process stops, and taken over by the next one). Entries leave by age
  alone, never to make room. Memory is bounded by the rate of *verified* signed requests times
  the window (2 x GATEKEEPER_HMAC_MAX_SKEW, 600 s by default): about 300 bytes an entry, so
  100 signed requests a second hold 60,000 entries, about 18 MB (measured in
  authz/tests/test_nonces.py: 291 bytes with 32-character nonces). Only requests with a valid
  signature store a nonce, so only holders of a secret can grow it, and only at their own
  request rate.
- `RedisNonces`: one `SET key 1 NX EX ttl` per claim, shared by every process and instance.
  A Redis whose `maxmemory-policy` may evict keys with a TTL (`allkeys-*`, `volatile-*`) can
  lose nonces under memory pressure: `authz/redis_server.py` says so at start and in /health.

Both are atomic put-if-absent, so two processes (or threads) racing with one nonce cannot both
win. The engine claims a nonce only after the signature verified, or anyone could burn a
client's nonces.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from authz.redis_server import Breaker


class Nonces(Protocol):
    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        """True the first time (client, nonce) is seen within `ttl` seconds; raises when the
        store cannot be asked (the engine decides whether that fails closed)."""


class LocalNonces:
    """Nonces in this process's memory, forgotten only when their window has passed."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._expiry: dict[tuple[str, str], float] = {}
        # Claims in the order they expire (every ttl is the same window, so insertion order is
        # expiry order): purging pops from the left until the first live one.
        self._order: deque[tuple[float, tuple[str, str]]] = deque()
        self._lock = threading.Lock()

    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        now = self._clock()
        key = (client_id, nonce)
        with self._lock:
            self._purge(now)
            expires = self._expiry.get(key)
            if expires is not None and expires > now:
                return False
            self._expiry[key] = now + ttl
            self._order.append((now + ttl, key))
            return True

    def __len__(self) -> int:
        return len(self._expiry)

    def save(self, path: Path) -> None:
        """Write the live nonces for the next process (a restart or reload of the one-process
        default would otherwise forget them, and a captured request could replay)."""
        now = self._clock()
        with self._lock:
            self._purge(now)
            live = [[c, n, round(e - now, 3)] for (c, n), e in self._expiry.items()]
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(live, handle)
        temporary.replace(path)

    def load(self, path: Path) -> int:
        """Take over the nonces a previous process saved; returns how many are still live."""
        try:
            saved = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return 0
        now = self._clock()
        with self._lock:
            for client_id, nonce, remaining in sorted(saved, key=lambda entry: entry[2]):
                if remaining > 0:
                    self._expiry[(client_id, nonce)] = now + remaining
                    self._order.append((now + remaining, (client_id, nonce)))
        path.unlink(missing_ok=True)
        return len(self._expiry)

    def _purge(self, now: float) -> None:
        order, expiry = self._order, self._expiry
        while order and order[0][0] <= now:
            expires, key = order.popleft()
            # A key claimed again after it expired has a newer entry further right.
            if expiry.get(key) == expires:
                del expiry[key]


class RedisNonces:
    """Nonces in Redis, shared by every process and instance."""

    def __init__(self, client: object, prefix: str, breaker: Breaker | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker or Breaker()

    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        key = f"{self._prefix}:nonce:{client_id}:{nonce}"
        claimed = self._breaker.call(self._client.set, key, b"1", nx=True, ex=ttl)  # type: ignore[attr-defined]
        return bool(claimed)


class CountingErrors:
    """A store that reports each failure to `on_error` (a metric) before raising it on."""

    def __init__(self, store: Nonces, on_error: Callable[[], None]) -> None:
        self._store = store
        self._on_error = on_error

    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        try:
            return self._store.claim(client_id, nonce, ttl)
        except Exception:
            self._on_error()
            raise


class DryNonces:
    """Explaining or testing a request must not burn its nonce: report fresh, store nothing."""

    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        return True
