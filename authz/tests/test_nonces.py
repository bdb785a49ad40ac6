"""The replay store: a nonce once per client within its window, forgotten by age only."""

from __future__ import annotations

import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.test import override_settings

from authz import runtime
from authz.nonces import LocalNonces, RedisNonces
from authz.redis_server import connect
from authz.signatures import sign
from authz.tests.conftest import ACTOR
from authz.tests.decider import DeciderClient
from authz.tests.wire import hmac_header
from clients import services as clients


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_nonce_is_accepted_once_per_client_within_its_window():
    clock = Clock()
    nonces = LocalNonces(clock)
    assert nonces.claim("acme", "n1", ttl=600)
    assert not nonces.claim("acme", "n1", ttl=600)
    assert nonces.claim("other", "n1", ttl=600), "nonces are per client"
    clock.now += 599
    assert not nonces.claim("acme", "n1", ttl=600)
    clock.now += 2
    assert nonces.claim("acme", "n1", ttl=600), "a nonce past its window may come again"


def test_no_number_of_other_claims_evicts_a_nonce():
    nonces = LocalNonces(Clock())
    assert nonces.claim("victim", "captured", ttl=600)
    for i in range(50_000):
        assert nonces.claim("mallory", f"n{i}", ttl=600)
    assert not nonces.claim("victim", "captured", ttl=600)
    assert len(nonces) == 50_001


def test_expired_entries_are_let_go_so_memory_follows_the_rate_not_the_history():
    clock = Clock()
    nonces = LocalNonces(clock)
    for second in range(1200):
        clock.now += 1
        for i in range(10):
            nonces.claim("acme", f"{second}-{i}", ttl=600)
    # Ten a second for 600 seconds are live; the first 600 seconds' worth are gone.
    assert len(nonces) == 6000


def test_memory_per_nonce_is_as_documented():
    """The bound in authz/nonces.py: about 300 bytes per live nonce (a 32-character nonce), so
    100 verified signed requests a second for 600 s take about 18 MB."""
    client_id = str(uuid.uuid4())
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        nonces = LocalNonces(Clock())
        for _ in range(60_000):
            nonces.claim(client_id, uuid.uuid4().hex, ttl=600)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_entry = used / 60_000
    print(f"\nLocalNonces: {per_entry:.0f} bytes per nonce, {used / 1e6:.1f} MB for 60,000")
    assert per_entry < 400


def test_claims_race_to_one_winner():
    nonces = LocalNonces(time.monotonic)
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda _: nonces.claim("acme", "same", ttl=600), range(64)))
    assert wins.count(True) == 1


@pytest.mark.needs("redis")
def test_redis_nonces_are_shared_and_expire(settings):
    client = connect(settings.REDIS_URL)
    prefix = f"{settings.CACHES['default']['KEY_PREFIX']}-{uuid.uuid4().hex[:8]}"
    first, second = RedisNonces(client, prefix), RedisNonces(client, prefix)
    assert first.claim("acme", "n1", ttl=2)
    assert not second.claim("acme", "n1", ttl=2), "another process sees the claim"
    assert 0 < client.ttl(f"{prefix}:nonce:acme:n1") <= 2
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda _: first.claim("acme", "race", ttl=60), range(32)))
    assert wins.count(True) == 1


STORES = [
    pytest.param("", id="embedded"),
    pytest.param("redis", id="redis", marks=pytest.mark.needs("redis")),
]


@pytest.mark.parametrize("store", STORES)
def test_a_captured_request_never_replays_after_many_other_signed_requests(world, store):
    """The attack of issue 9 item 1: a client with a secret but no permission signs 10,000
    requests (all denied after their nonce was stored), then a captured request of another
    client is replayed."""
    mallory = clients.create_client(name="mallory", actor=ACTOR)
    secret = clients.issue_hmac_secret(mallory, actor=ACTOR).plaintext.encode()
    with override_settings(REDIS_URL=settings.REDIS_URL if store else ""):
        runtime.reset()
        runtime.get_runtime().holder.refresh()
        decider = DeciderClient()

        def ask(authorization: str):
            return decider.get(
                "/authz",
                HTTP_X_ORIGINAL_METHOD="POST",
                HTTP_X_ORIGINAL_URI="/api/data/x",
                HTTP_X_ORIGINAL_HOST="api.example.com",
                HTTP_AUTHORIZATION=authorization,
            )

        (captured,) = hmac_header(world, "POST", "/api/data/x").values()
        assert ask(captured)["X-Auth-Reason"] == "authenticated"
        for _ in range(10_000):
            nonce = uuid.uuid4().hex
            stamp = str(int(time.time()))
            signature = sign(secret, "POST", "/api/data/x", stamp, nonce, b"")
            flood = (
                f'HMAC client_id="{mallory.id}",timestamp="{stamp}",nonce="{nonce}",'
                f'signature="{signature}"'
            )
            assert ask(flood)["X-Auth-Reason"] == "no_permission"
        replay = ask(captured)
    assert (replay.status_code, replay["X-Auth-Reason"]) == (401, "invalid_credentials")


def test_the_next_process_takes_over_the_live_nonces(tmp_path):
    clock = Clock()
    before = LocalNonces(clock)
    before.claim("acme", "captured", ttl=600)
    before.claim("acme", "old", ttl=600)
    clock.now += 300
    before.claim("acme", "recent", ttl=600)
    clock.now += 301
    before.save(tmp_path / "nonces.json")
    assert oct((tmp_path / "nonces.json").stat().st_mode & 0o777) == "0o600"

    after = LocalNonces(Clock())
    assert after.load(tmp_path / "nonces.json") == 1
    assert not after.claim("acme", "recent", ttl=600), "a replay across a restart is refused"
    assert after.claim("acme", "captured", ttl=600), "past its window before the restart"
    assert not (tmp_path / "nonces.json").exists()
