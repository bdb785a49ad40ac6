"""Real processes for the end-to-end tests: Gatekeeper in gunicorn, a recording backend and
the proxies from deploy/, each started once per module and always stopped.

Each test builds its own `world` (authz/tests/conftest.py) through the real services and
commits it (transaction=True), so the gunicorn workers see it once they reload their snapshot;
`scene` waits for that before the test sends anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from authz.tests.conftest import ACTOR, World
from authz.tests.e2e.backend import RecordingBackend
from authz.tests.e2e.proxies import ProxyProcess, caddy, nginx
from authz.tests.live import Gatekeeper, answered, running
from permissions import services as permissions
from routes import services as routes

# The body-signed location of deploy/nginx/gatekeeper.conf (handled by gate.js).
SIGNED_LOCATION = "/signed/"


@dataclass(frozen=True)
class Scene:
    """The test's world, plus the route behind the body-signed location."""

    world: World
    signed: object


@pytest.fixture(scope="module")
def gatekeeper(django_db_setup, tmp_path_factory) -> Iterator[Gatekeeper]:
    with running(tmp_path_factory.mktemp("gunicorn")) as gatekeeper:
        yield gatekeeper


@pytest.fixture(scope="module")
def backend() -> Iterator[RecordingBackend]:
    with RecordingBackend() as backend:
        yield backend


@pytest.fixture(scope="module")
def gatekeeper_port(gatekeeper) -> int:
    """Where the proxies ask; a module may override it (test_proxy_outage puts a link between)."""
    return gatekeeper.port


@pytest.fixture(scope="module")
def nginx_proxy(gatekeeper_port, backend, tmp_path_factory) -> Iterator[ProxyProcess]:
    with nginx(
        tmp_path_factory.mktemp("nginx"), gatekeeper_port=gatekeeper_port, backend_port=backend.port
    ) as process:
        yield process


@pytest.fixture(scope="module")
def caddy_proxy(gatekeeper_port, backend, tmp_path_factory) -> Iterator[ProxyProcess]:
    with caddy(
        tmp_path_factory.mktemp("caddy"), gatekeeper_port=gatekeeper_port, backend_port=backend.port
    ) as process:
        yield process


@pytest.fixture
def scene(world: World, gatekeeper: Gatekeeper, backend: RecordingBackend) -> Scene:
    """`world` with /signed/data/* configured like /api/data/*, known to every worker."""
    signed = routes.create_route(
        domain="*",
        pattern=f"{SIGNED_LOCATION}data/*",
        methods={"GET": "api_key", "POST": "hmac", "PUT": "any", "DELETE": "api_key"},
        actor=ACTOR,
    )
    permissions.grant(world.acme, signed, ["GET", "POST", "PUT"], actor=ACTOR)
    key = {"Authorization": f"Bearer {world.acme_key}"}
    sweep = gatekeeper.sweep(
        lambda: gatekeeper.authz("GET", f"{SIGNED_LOCATION}data/ready", key),
        answered(200, "authenticated"),
    )
    assert sweep.settled_after is not None, f"gunicorn never saw the world: {sweep.summary()}"
    backend.clear()
    return Scene(world=world, signed=signed)
