"""Gatekeeper unreachable behind nginx: the client gets the documented 503 JSON within the
configured timeouts (connect 1 s, read 3 s), and the backend sees nothing.

nginx reaches Gatekeeper through a `TcpProxy` here, which the tests cut (connections refused)
and stall (connections accepted, never answered); one test stops gunicorn itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from authz.tests.e2e.cases import bearer
from authz.tests.e2e.client import request
from authz.tests.e2e.proxies import ProxyProcess, nginx
from authz.tests.live import running
from authz.tests.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.needs("nginx", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

UNAVAILABLE = (503, {"error": "gatekeeper_unavailable"})
# gatekeeper.conf: proxy_connect_timeout 1s, proxy_read_timeout 3s.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 3.0
# Slack for a loaded CI machine.
SLACK = 1.0
# A request for each way nginx asks: auth_request, and gate.js (with a body).
ASKS = {
    "auth_request": ("GET", "/api/data/x", b""),
    "njs": ("PUT", "/signed/data/x", b'{"order": 1}'),
}


@pytest.fixture(scope="module")
def link(gatekeeper) -> Iterator[TcpProxy]:
    with TcpProxy(("127.0.0.1", gatekeeper.port)) as link:
        yield link


@pytest.fixture(scope="module")
def nginx_proxy(link, backend, tmp_path_factory) -> Iterator[ProxyProcess]:
    """nginx asking Gatekeeper through `link` (overrides the conftest's)."""
    with nginx(
        tmp_path_factory.mktemp("nginx"), gatekeeper_port=link.port, backend_port=backend.port
    ) as process:
        yield process


@pytest.fixture
def restored(link: TcpProxy) -> Iterator[TcpProxy]:
    yield link
    link.restore()


def ask_all(port: int, key: str) -> dict:
    """Both requests at once (a stalled Gatekeeper makes each take the read timeout)."""
    with ThreadPoolExecutor(len(ASKS)) as pool:
        futures = {
            kind: pool.submit(request, port, method, path, headers=bearer(key), body=body)
            for kind, (method, path, body) in ASKS.items()
        }
        return {kind: future.result() for kind, future in futures.items()}


def test_gatekeeper_refusing_connections_gives_503_at_once(scene, nginx_proxy, backend, restored):
    key = scene.world.acme_key
    assert {kind: r.status for kind, r in ask_all(nginx_proxy.port, key).items()} == {
        "auth_request": 200,
        "njs": 200,
    }
    backend.clear()

    restored.cut()
    replies = ask_all(nginx_proxy.port, key)

    for kind, reply in replies.items():
        assert (reply.status, reply.json()) == UNAVAILABLE, kind
        assert reply.header("Content-Type") == "application/json"
        assert reply.elapsed < CONNECT_TIMEOUT, (kind, reply.elapsed)
    assert backend.received == []

    restored.restore()
    assert {kind: r.status for kind, r in ask_all(nginx_proxy.port, key).items()} == {
        "auth_request": 200,
        "njs": 200,
    }


def test_gatekeeper_not_answering_gives_503_after_the_read_timeout(
    scene, nginx_proxy, backend, restored
):
    restored.stall()

    replies = ask_all(nginx_proxy.port, scene.world.acme_key)

    for kind, reply in replies.items():
        assert (reply.status, reply.json()) == UNAVAILABLE, kind
        assert READ_TIMEOUT - 0.1 <= reply.elapsed < READ_TIMEOUT + SLACK, (kind, reply.elapsed)
    assert backend.received == []


def test_gatekeeper_stopped_gives_503_and_the_backend_sees_nothing(scene, backend, tmp_path: Path):
    key = scene.world.acme_key
    with (
        running(tmp_path) as own,
        nginx(tmp_path / "nginx", gatekeeper_port=own.port, backend_port=backend.port) as proxy,
    ):
        assert ask_all(proxy.port, key)["auth_request"].status == 200
        own.stop()
        backend.clear()

        replies = ask_all(proxy.port, key)

    for kind, reply in replies.items():
        assert (reply.status, reply.json()) == UNAVAILABLE, kind
        assert reply.elapsed < CONNECT_TIMEOUT, (kind, reply.elapsed)
    assert backend.received == []
