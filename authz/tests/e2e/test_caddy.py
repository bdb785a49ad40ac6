"""Caddy with deploy/caddy/Caddyfile (forward_auth to /authz/forward) in front of a recording
backend, asking a real Gatekeeper.

Caddy shows Gatekeeper's deny answers to the client as they are (proxy-facts §2.2), so the
statuses, JSON bodies, WWW-Authenticate and Retry-After are Gatekeeper's own.
"""

from __future__ import annotations

import random

import pytest

from authz.tests.conftest import ACTOR
from authz.tests.e2e.cases import (
    CONFUSION_CASES,
    DENIALS,
    IDENTITY_HEADERS,
    SPOOFED,
    Denial,
    bearer,
    check_signed_body_unavailable,
    check_signed_empty_body_passes,
    denial_id,
    probe_confusion,
    until_limited,
)
from authz.tests.e2e.client import request
from permissions import services as permissions

pytestmark = [
    pytest.mark.needs("caddy", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

MIB = 1024 * 1024


@pytest.mark.parametrize("denial", DENIALS, ids=denial_id)
def test_gatekeepers_denial_reaches_the_client_as_it_is(
    scene, caddy_proxy, backend, denial: Denial
):
    path = denial.path.format(location="/api/", data="/api/data")

    reply = request(caddy_proxy.port, denial.method, path, headers=denial.headers(scene.world))

    assert (reply.status, reply.json()) == (denial.status, {"error": denial.reason})
    assert reply.header("Content-Type") == "application/json"
    assert reply.values("WWW-Authenticate") == ([denial.challenge] if denial.challenge else [])
    # Gatekeeper's identity headers come along, empty: nothing about any client leaks.
    assert all(not reply.header(name) for name in IDENTITY_HEADERS)
    assert backend.received == []


def test_a_rate_limited_client_gets_gatekeepers_429_with_retry_after(scene, caddy_proxy, backend):
    world = scene.world
    permissions.set_rate_limit(world.acme, limit=1, window="hour", route=world.data, actor=ACTOR)

    replies = until_limited(caddy_proxy.port, "/api/data/x", world.acme_key)

    limited = replies[-1]
    assert (limited.status, limited.json()) == (429, {"error": "rate_limit_exceeded"})
    assert 1 <= int(limited.header("Retry-After")) <= 3600
    assert limited.header("RateLimit-Limit") == "1"
    assert len(backend.received) == len(replies) - 1


def test_an_allowed_request_carries_gatekeepers_identity_and_never_the_clients(
    scene, caddy_proxy, backend
):
    world = scene.world

    reply = request(
        caddy_proxy.port,
        "GET",
        "/api/data/orders/7?page=2",
        headers=[*bearer(world.acme_key), *SPOOFED],
    )

    assert (reply.status, reply.json()) == (200, {"backend": "ok"})
    [received] = backend.received
    assert received.request_line == "GET /api/data/orders/7?page=2 HTTP/1.1"
    assert received.header("X-Auth-Client-ID") == str(world.acme.id)
    assert received.header("X-Auth-Client-Name") == "acme"
    assert received.header("X-Auth-Route-ID") == str(world.data.id)


def test_a_public_route_reaches_the_backend_with_no_client_identity(scene, caddy_proxy, backend):
    reply = request(caddy_proxy.port, "GET", "/api/public/news", headers=SPOOFED)

    assert reply.status == 200
    [received] = backend.received
    # Caddy sets Gatekeeper's empty values over the client's copies.
    assert received.header("X-Auth-Client-ID") == ""
    assert received.header("X-Auth-Client-Name") == ""
    assert received.header("X-Auth-Route-ID") == str(scene.world.public.id)


@pytest.mark.parametrize(
    ("size", "chunked"), [(10, False), (10 * 1024, False), (2 * MIB, False), (2 * MIB, True)]
)
def test_a_body_reaches_the_backend_byte_for_byte(scene, caddy_proxy, backend, size, chunked):
    body = random.Random(size).randbytes(size)

    reply = request(
        caddy_proxy.port,
        "PUT",
        "/api/data/upload",
        headers=bearer(scene.world.acme_key),
        body=body,
        chunked=chunked,
    )

    assert reply.status == 200, reply.body
    [received] = backend.received
    assert received.body == body


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_a_signed_body_is_denied_as_unavailable(scene, caddy_proxy, backend, gatekeeper, chunked):
    check_signed_body_unavailable(
        scene.world, caddy_proxy.port, backend, gatekeeper, chunked=chunked
    )


def test_a_signed_request_without_a_body_is_allowed(scene, caddy_proxy, backend):
    check_signed_empty_body_passes(scene.world, caddy_proxy.port, backend)


@pytest.mark.parametrize(("targets", "key", "allowed", "control"), CONFUSION_CASES)
def test_path_confusion_never_reaches_a_route_the_credentials_do_not_open(
    scene, caddy_proxy, backend, targets, key, allowed, control
):
    """proxy-facts §2.4 (and §1.5) sent raw, as for nginx."""
    headers = bearer(getattr(scene.world, key)) if key else []

    targets = [control, *targets]
    reached, offenders = probe_confusion(caddy_proxy.port, backend, targets, headers, allowed)

    assert offenders == []
    # The check can fail: an honest request does reach the backend.
    assert control in reached
