"""Rate limits (design §5, §7) through /authz, and the counters behind them."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from authz.ratelimit import LocalCounters, RateLimiter, RateLimitUnavailable, RedisCounters
from authz.snapshot import ClientEntry, Limit
from authz.tests.conftest import ACTOR
from authz.tests.wire import bearer
from permissions import services as permissions


def limit(world, count: int, window: str, route=None) -> None:
    permissions.set_rate_limit(world.acme, limit=count, window=window, route=route, actor=ACTOR)


def test_a_client_gets_its_limit_then_rate_limit_exceeded(world, ask):
    limit(world, 3, "minute")
    answers = [ask("GET", "/api/data/x", **bearer(world.acme_key)) for _ in range(4)]
    assert [a["X-Auth-Reason"] for a in answers] == ["authenticated"] * 3 + ["rate_limit_exceeded"]
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a["RateLimit-Limit"] for a in answers} == {"3"}
    over = answers[-1]
    assert over.status_code == 403, "nginx turns anything but 200/401/403 into a 500"
    assert 1 <= int(over["Retry-After"]) <= 60
    assert over["Retry-After"] == over["RateLimit-Reset"]
    assert over["X-Auth-Client-ID"] == ""
    assert not answers[0].has_header("Retry-After")


def test_the_window_resets_on_time(world, ask):
    limit(world, 2, "second")
    # Start at the beginning of a second, so the three asks fall in one window.
    time.sleep(1 - time.time() % 1 + 0.01)
    reasons = [
        ask("GET", "/api/data/x", **bearer(world.acme_key))["X-Auth-Reason"] for _ in range(3)
    ]
    assert reasons == ["authenticated", "authenticated", "rate_limit_exceeded"]
    time.sleep(1 - time.time() % 1 + 0.01)
    assert ask("GET", "/api/data/x", **bearer(world.acme_key))["X-Auth-Reason"] == "authenticated"


def test_the_tightest_of_client_and_route_limits_applies(world, ask):
    limit(world, 100, "minute")
    limit(world, 1, "hour", route=world.data)
    first = ask("GET", "/api/data/x", **bearer(world.acme_key))
    assert first["RateLimit-Limit"] == "1"
    second = ask("GET", "/api/data/x", **bearer(world.acme_key))
    assert second["X-Auth-Reason"] == "rate_limit_exceeded"
    # The hour window (not the minute one) ends next: wait until the top of the hour.
    until_the_hour = 3600 - time.time() % 3600
    assert abs(int(second["Retry-After"]) - until_the_hour) <= 2


def test_no_limit_no_headers(world, ask):
    response = ask("GET", "/api/data/x", **bearer(world.acme_key))
    assert not response.has_header("RateLimit-Limit")


def test_proxies_that_show_the_answer_get_a_real_429(world, decider):
    limit(world, 1, "minute")
    headers = {
        "HTTP_X_FORWARDED_METHOD": "GET",
        "HTTP_X_FORWARDED_URI": "/api/data/x",
        "HTTP_X_FORWARDED_HOST": "api.example.com",
        **bearer(world.acme_key),
    }
    assert decider.get("/authz/forward", **headers).status_code == 200
    over = decider.get("/authz/forward", **headers)
    assert over.status_code == 429
    assert json.loads(over.content) == {"error": "rate_limit_exceeded"}
    assert over.has_header("Retry-After")


ACME = ClientEntry("c1", "acme", "active", {}, limits=(Limit(None, 2, 60),))


def test_local_counters_count_per_window():
    now = [1000.0]
    limiter = RateLimiter(LocalCounters(lambda: now[0]), fail_open=True)
    assert [limiter.check(ACME, 1, now[0]).remaining for _ in range(3)] == [1, 0, -1]
    now[0] = 1061.0
    assert limiter.check(ACME, 1, now[0]).remaining == 1


@pytest.mark.needs("redis")
def test_redis_counters_are_exact_under_concurrency():
    counters = RedisCounters(redis.Redis.from_url(settings.REDIS_URL), prefix="gktest")
    key = f"race-{time.time_ns()}"
    seen: list[int] = []
    lock = threading.Lock()

    def hit() -> None:
        for _ in range(25):
            (count,) = counters.hit([(key, 60)])
            with lock:
                seen.append(count)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 201)), "every increment is seen exactly once"


def unreachable() -> RedisCounters:
    # A real refused connection: nothing listens on port 1.
    client = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    return RedisCounters(client, "gk")


def test_an_unreachable_store_fails_open_by_default_and_says_so_once(caplog):
    limiter = RateLimiter(unreachable(), fail_open=True)
    with caplog.at_level(logging.ERROR, logger="authz.ratelimit"):
        assert limiter.check(ACME, 1, 1000.0) is None
        assert limiter.check(ACME, 1, 1001.0) is None
    assert len(caplog.records) == 1
    assert "deciding without limits" in caplog.text


def test_an_unreachable_store_can_fail_closed():
    with pytest.raises(RateLimitUnavailable):
        RateLimiter(unreachable(), fail_open=False).check(ACME, 1, 1000.0)
