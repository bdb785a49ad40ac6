"""Rate limits across gunicorn workers sharing Redis, and through a Redis outage (design §7)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from authz.tests.conftest import ACTOR
from authz.tests.live import redis_address, running
from authz.tests.tcp_proxy import TcpProxy
from permissions import services as permissions

pytestmark = [
    pytest.mark.needs("postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

LIMIT = 10
REQUESTS = 40


def test_workers_sharing_redis_allow_exactly_the_limit(world, tmp_path):
    permissions.set_rate_limit(world.acme, limit=LIMIT, window="hour", actor=ACTOR)
    key = {"Authorization": f"Bearer {world.acme_key}"}
    with running(tmp_path) as gatekeeper:
        pinned = gatekeeper.pinned()
        assert len(pinned) == 2

        def ask_through(connection) -> list:
            with gatekeeper.through(connection):
                return [gatekeeper.authz("GET", "/api/data/x", key) for _ in range(REQUESTS // 2)]

        # Both workers at once, each on its own connection.
        with ThreadPoolExecutor(2) as pool:
            answers = [a for batch in pool.map(ask_through, pinned) for a in batch]
    assert {a.pid for a in answers} == {p.pid for p in pinned}, "both workers answered"
    reasons = [answer.reason for answer in answers]
    assert reasons.count("authenticated") == LIMIT
    assert reasons.count("rate_limit_exceeded") == len(answers) - LIMIT
    remaining = sorted(
        int(a.headers["ratelimit-remaining"]) for a in answers if a.reason == "authenticated"
    )
    assert remaining == list(range(LIMIT)), "each allowed decision saw its own count"


def test_limits_fail_open_while_redis_is_away_and_apply_again_after(world, tmp_path):
    permissions.set_rate_limit(world.acme, limit=2, window="hour", actor=ACTOR)
    key = {"Authorization": f"Bearer {world.acme_key}"}
    with TcpProxy(redis_address()) as proxy, running(tmp_path, redis_port=proxy.port) as gatekeeper:
        assert [gatekeeper.authz("GET", "/api/data/x", key).reason for _ in range(3)] == [
            "authenticated",
            "authenticated",
            "rate_limit_exceeded",
        ]
        proxy.cut()
        started = time.monotonic()
        during = [gatekeeper.authz("GET", "/api/data/x", key) for _ in range(6)]
        slowest = max(a.received for a in during) - started
        assert {a.reason for a in during} == {"authenticated"}, "API keys go on, without limits"
        assert all("ratelimit-limit" not in a.headers for a in during)
        assert slowest < 3.0, "no decision waits for the missing store"
        proxy.restore()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if gatekeeper.authz("GET", "/api/data/x", key).reason == "rate_limit_exceeded":
                break
            time.sleep(0.1)
        else:
            pytest.fail("limits did not apply again after Redis came back")
