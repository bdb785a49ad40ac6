"""The shipped nginx config with its decision cache turned on (the one commented line): what
may be cached is, what may not never is, no key reaches a cache file, and a suspension is
enforced within two seconds, cache included."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from authz.tests.conftest import ACTOR
from authz.tests.e2e.cases import bearer
from authz.tests.e2e.client import request
from authz.tests.e2e.proxies import ProxyProcess, nginx
from clients import services as clients
from permissions import services as permissions

pytestmark = [
    pytest.mark.needs("nginx", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

CACHE_ON = ("# proxy_cache gk_decisions;", "proxy_cache gk_decisions;")


def with_cache(conf: str) -> str:
    assert CACHE_ON[0] in conf, "the shipped config turns the cache on with this one line"
    return conf.replace(*CACHE_ON)


@pytest.fixture
def cached(gatekeeper_port, backend, tmp_path) -> Iterator[ProxyProcess]:
    with nginx(
        tmp_path, gatekeeper_port=gatekeeper_port, backend_port=backend.port, edit=with_cache
    ) as process:
        yield process


def cache_statuses(proxy: ProxyProcess) -> list[str]:
    log = proxy.log.parent / "access.log"
    time.sleep(0.1)
    return [line.rsplit("cache=", 1)[1].split()[0] for line in log.read_text().splitlines()]


def cache_files(proxy: ProxyProcess) -> list[Path]:
    return [
        p for p in (proxy.log.parent.parent / "state" / "decision-cache").rglob("*") if p.is_file()
    ]


def test_an_api_key_allow_is_answered_from_the_cache_within_its_second(scene, cached, backend):
    key = bearer(scene.world.acme_key)
    # Early in a second: an answer lives to the end of the second it was given in.
    time.sleep(1.05 - time.time() % 1)
    replies = [request(cached.port, "GET", "/api/data/x", headers=key) for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    assert cache_statuses(cached)[-3:] == ["MISS", "HIT", "HIT"]
    # The identity still reaches the backend from a cached answer.
    assert {tuple(r.values("X-Auth-Client-Name")) for r in backend.received} == {("acme",)}
    time.sleep(1.01)
    request(cached.port, "GET", "/api/data/x", headers=key)
    assert cache_statuses(cached)[-1] == "EXPIRED", "an answer is kept for one second at most"


def test_hmac_rate_limits_and_other_keys_are_never_served_from_the_cache(scene, cached):
    world = scene.world
    # A signed request replayed within the second: a cache would let the replay through.
    signed = [("Authorization", world.signer()._create_auth_header("GET", "/api/data/x", ""))]
    permissions.grant(world.acme, world.data, ["GET", "POST", "PUT", "DELETE"], actor=ACTOR)
    first = request(cached.port, "PUT", "/api/data/x", headers=signed)
    replay = request(cached.port, "PUT", "/api/data/x", headers=signed)
    assert first.status in (200, 401)
    assert replay.status == 401
    # A key of another client is its own cache entry.
    stranger = request(cached.port, "GET", "/api/data/x", headers=bearer(world.stranger_key))
    assert stranger.status == 403
    # A rate-limited client is counted every time.
    permissions.set_rate_limit(world.acme, limit=2, window="hour", actor=ACTOR)
    time.sleep(1.5)
    statuses = [
        request(cached.port, "GET", "/api/data/y", headers=bearer(world.acme_key)).status
        for _ in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


def test_no_key_is_in_a_cache_key_or_a_cache_file(scene, cached):
    world = scene.world
    legacy = "legacy-key-0123456789abcdef"
    clients.issue_api_key(world.acme, plaintext=legacy, actor=ACTOR)
    time.sleep(0.6)
    keys = [world.acme_key, world.stranger_key, legacy]
    for key in keys:
        request(cached.port, "GET", "/api/data/x", headers=bearer(key))
        request(cached.port, "GET", "/api/data/x", headers=[("X-API-Key", key)])
        request(cached.port, "GET", f"/api/data/x?api_key={quote(key, safe='')}")
    files = cache_files(cached)
    assert files, "answers were cached"
    contents = b"".join(path.read_bytes() for path in files)
    names = " ".join(str(path) for path in files)
    for key in keys:
        for form in {key, quote(key, safe=""), key[-20:]}:
            assert form.encode() not in contents
            assert form not in names


def test_a_suspension_is_enforced_within_two_seconds_cache_included(scene, cached):
    key = bearer(scene.world.acme_key)
    assert request(cached.port, "GET", "/api/data/x", headers=key).status == 200
    suspended_at = time.monotonic()
    clients.set_client_status(scene.world.acme, "suspended", actor=ACTOR)
    last_allowed = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reply = request(cached.port, "GET", "/api/data/x", headers=key)
        if reply.status == 200:
            last_allowed = time.monotonic() - suspended_at
    print(f"\nlast allowed after the suspension: {last_allowed}")
    assert last_allowed is None or last_allowed < 1.5
    assert request(cached.port, "GET", "/api/data/x", headers=key).status == 403
