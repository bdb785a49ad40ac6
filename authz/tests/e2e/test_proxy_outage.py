"""Gatekeeper unreachable behind nginx and Caddy: the client gets the documented answer within
the configured timeouts (connect 1 s, read 3 s) and the backend sees nothing.

nginx answers 503 `{"error": "gatekeeper_unavailable"}`; Caddy answers its own 502 (refused)
or 504 (no answer). The proxies reach Gatekeeper through a `TcpProxy` here, which the tests
cut (connections refused) and stall (connections accepted, never answered); one test stops
gunicorn itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from authz.tests.e2e.cases import bearer
from authz.tests.e2e.client import Reply, request
from authz.tests.e2e.proxies import nginx
from authz.tests.live import running
from authz.tests.tcp_proxy import HOST, TcpProxy

pytestmark = [
    pytest.mark.needs("postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

NGINX_UNAVAILABLE = (503, {"error": "gatekeeper_unavailable"})
# Both configs: connect timeout 1 s, read (response header) timeout 3 s.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 3.0
# Slack for a loaded CI machine.
SLACK = 1.0
# A request for each way nginx asks: auth_request, and gate.js (with a body).
NGINX_ASKS = {
    "auth_request": ("GET", "/api/data/x", b""),
    "njs": ("PUT", "/signed/data/x", b'{"order": 1}'),
}
CADDY_ASKS = {"forward_auth": ("GET", "/api/data/x", b"")}


@pytest.fixture(scope="module")
def link(gatekeeper) -> Iterator[TcpProxy]:
    with TcpProxy((HOST, gatekeeper.port)) as link:
        yield link


@pytest.fixture(scope="module")
def gatekeeper_port(link: TcpProxy) -> int:
    """nginx and Caddy ask Gatekeeper through `link`, which the tests cut and stall."""
    return link.port


@pytest.fixture
def restored(link: TcpProxy) -> Iterator[TcpProxy]:
    yield link
    link.restore()


def ask_all(port: int, key: str, asks: dict) -> dict[str, Reply]:
    """Every request at once (a stalled Gatekeeper makes each take the read timeout)."""
    with ThreadPoolExecutor(len(asks)) as pool:
        futures = {
            kind: pool.submit(request, port, method, path, headers=bearer(key), body=body)
            for kind, (method, path, body) in asks.items()
        }
        return {kind: future.result() for kind, future in futures.items()}


def statuses(replies: dict[str, Reply]) -> dict[str, int]:
    return {kind: reply.status for kind, reply in replies.items()}


@pytest.mark.needs("nginx")
def test_nginx_gives_503_at_once_when_gatekeeper_refuses_connections(
    scene, nginx_proxy, backend, restored
):
    key = scene.world.acme_key
    assert set(statuses(ask_all(nginx_proxy.port, key, NGINX_ASKS)).values()) == {200}
    backend.clear()

    restored.cut()
    replies = ask_all(nginx_proxy.port, key, NGINX_ASKS)

    for kind, reply in replies.items():
        assert (reply.status, reply.json()) == NGINX_UNAVAILABLE, kind
        assert reply.header("Content-Type") == "application/json"
        assert reply.elapsed < CONNECT_TIMEOUT, (kind, reply.elapsed)
    assert backend.received == []

    restored.restore()
    assert set(statuses(ask_all(nginx_proxy.port, key, NGINX_ASKS)).values()) == {200}


@pytest.mark.needs("nginx")
def test_nginx_gives_503_after_the_read_timeout_when_gatekeeper_hangs(
    scene, nginx_proxy, backend, restored
):
    restored.stall()

    replies = ask_all(nginx_proxy.port, scene.world.acme_key, NGINX_ASKS)

    for kind, reply in replies.items():
        assert (reply.status, reply.json()) == NGINX_UNAVAILABLE, kind
        assert READ_TIMEOUT - 0.1 <= reply.elapsed < READ_TIMEOUT + SLACK, (kind, reply.elapsed)
    assert backend.received == []


@pytest.mark.needs("nginx")
def test_nginx_gives_503_when_gatekeeper_is_stopped(scene, backend, tmp_path: Path):
    key = scene.world.acme_key
    with (
        running(tmp_path) as own,
        nginx(tmp_path / "nginx", gatekeeper_port=own.port, backend_port=backend.port) as proxy,
    ):
        assert set(statuses(ask_all(proxy.port, key, NGINX_ASKS)).values()) == {200}
        own.stop()
        backend.clear()

        replies = ask_all(proxy.port, key, NGINX_ASKS)

    for kind, reply in replies.items():
        assert (reply.status, reply.json()) == NGINX_UNAVAILABLE, kind
        assert reply.elapsed < CONNECT_TIMEOUT, (kind, reply.elapsed)
    assert backend.received == []


@pytest.mark.needs("caddy")
def test_caddy_gives_502_at_once_when_gatekeeper_refuses_connections(
    scene, caddy_proxy, backend, restored
):
    key = scene.world.acme_key
    assert statuses(ask_all(caddy_proxy.port, key, CADDY_ASKS)) == {"forward_auth": 200}
    backend.clear()

    restored.cut()
    reply = ask_all(caddy_proxy.port, key, CADDY_ASKS)["forward_auth"]

    assert reply.status == 502
    assert reply.elapsed < CONNECT_TIMEOUT
    assert backend.received == []

    restored.restore()
    assert statuses(ask_all(caddy_proxy.port, key, CADDY_ASKS)) == {"forward_auth": 200}


@pytest.mark.needs("caddy")
def test_caddy_gives_504_after_the_read_timeout_when_gatekeeper_hangs(
    scene, caddy_proxy, backend, restored
):
    restored.stall()

    reply = ask_all(caddy_proxy.port, scene.world.acme_key, CADDY_ASKS)["forward_auth"]

    assert reply.status == 504
    assert READ_TIMEOUT - 0.1 <= reply.elapsed < READ_TIMEOUT + SLACK
    assert backend.received == []
