"""nginx with deploy/nginx/gatekeeper.conf in front of a recording backend, asking a real
Gatekeeper: what the client sees for every decision, and what the backend receives.

Both ways nginx asks are covered: auth_request (`location /`, e.g. /api/data/*) and the
body-signed location run by gate.js (/signed/, e.g. /signed/data/*).
"""

from __future__ import annotations

import pytest

from authz.tests.conftest import ACTOR
from authz.tests.e2e.cases import (
    CONFUSION_CASES,
    DENIALS,
    SPOOFED,
    Denial,
    bearer,
    denial_id,
    probe_confusion,
    until_limited,
)
from authz.tests.e2e.client import request
from authz.tests.e2e.conftest import SIGNED_LOCATION
from permissions import services as permissions

pytestmark = [
    pytest.mark.needs("nginx", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

# (location, its data route): auth_request, and gate.js.
LOCATIONS = {"auth_request": ("/api/", "/api/data"), "njs": (SIGNED_LOCATION, "/signed/data")}


def data_route(scene, kind: str):
    return scene.world.data if kind == "auth_request" else scene.signed


@pytest.mark.parametrize("kind", LOCATIONS)
@pytest.mark.parametrize("denial", DENIALS, ids=denial_id)
def test_a_denial_reaches_the_client_as_json_and_never_the_backend(
    scene, nginx_proxy, backend, kind: str, denial: Denial
):
    location, data = LOCATIONS[kind]
    path = denial.path.format(location=location, data=data)

    reply = request(nginx_proxy.port, denial.method, path, headers=denial.headers(scene.world))

    assert (reply.status, reply.json()) == (denial.status, {"error": denial.reason})
    assert reply.header("Content-Type") == "application/json"
    # Exactly one challenge on a 401 (nginx copies Gatekeeper's), none otherwise.
    assert reply.values("WWW-Authenticate") == ([denial.challenge] if denial.challenge else [])
    assert backend.received == []


@pytest.mark.parametrize("kind", LOCATIONS)
def test_a_rate_limited_client_gets_429_with_retry_after(scene, nginx_proxy, backend, kind: str):
    _, data = LOCATIONS[kind]
    permissions.set_rate_limit(
        scene.world.acme, limit=1, window="hour", route=data_route(scene, kind), actor=ACTOR
    )

    replies = until_limited(nginx_proxy.port, f"{data}/x", scene.world.acme_key)

    limited = replies[-1]
    assert (limited.status, limited.json()) == (429, {"error": "rate_limit_exceeded"})
    assert limited.header("Content-Type") == "application/json"
    assert 1 <= int(limited.header("Retry-After")) <= 3600
    assert len(backend.received) == len(replies) - 1


@pytest.mark.parametrize("kind", LOCATIONS)
def test_an_allowed_request_carries_gatekeepers_identity_and_never_the_clients(
    scene, nginx_proxy, backend, kind: str
):
    _, data = LOCATIONS[kind]
    world = scene.world

    reply = request(
        nginx_proxy.port,
        "GET",
        f"{data}/orders/7?page=2",
        headers=[*bearer(world.acme_key), *SPOOFED],
    )

    assert reply.status == 200
    assert reply.json() == {"backend": "ok"}
    [received] = backend.received
    assert received.request_line == f"GET {data}/orders/7?page=2 HTTP/1.1"
    assert received.header("X-Auth-Client-ID") == str(world.acme.id)
    assert received.header("X-Auth-Client-Name") == "acme"
    assert received.header("X-Auth-Route-ID") == str(data_route(scene, kind).id)


def test_a_public_route_reaches_the_backend_with_no_client_identity(scene, nginx_proxy, backend):
    reply = request(nginx_proxy.port, "GET", "/api/public/news", headers=SPOOFED)

    assert reply.status == 200
    [received] = backend.received
    assert received.target == "/api/public/news"
    # Gatekeeper's empty values drop the client's copies; the route is still named.
    assert received.header("X-Auth-Client-ID") is None
    assert received.header("X-Auth-Client-Name") is None
    assert received.header("X-Auth-Route-ID") == str(scene.world.public.id)


@pytest.mark.parametrize("status", [401, 403, 429, 500, 502, 503])
def test_the_backends_own_errors_pass_through_untouched(scene, nginx_proxy, backend, status):
    """error_page catches only nginx's answers for Gatekeeper: a backend's own 401 or 500 is
    not turned into a Gatekeeper denial or an outage."""
    reply = request(
        nginx_proxy.port, "GET", "/api/public/news", headers=[("X-Backend-Status", str(status))]
    )

    assert (reply.status, reply.json()) == (status, {"backend": "ok"})
    assert len(backend.received) == 1


@pytest.mark.parametrize(("targets", "key", "allowed", "control"), CONFUSION_CASES)
def test_path_confusion_never_reaches_a_route_the_credentials_do_not_open(
    scene, nginx_proxy, backend, targets, key, allowed, control
):
    """proxy-facts §1.5 and §2.4 sent raw: whatever reaches the backend must be inside the
    routes the credentials open, however the backend reads the path."""
    headers = bearer(getattr(scene.world, key)) if key else []

    targets = [control, *targets]
    reached, offenders = probe_confusion(nginx_proxy.port, backend, targets, headers, allowed)

    assert offenders == []
    # The check can fail: an honest request does reach the backend.
    assert control in reached
