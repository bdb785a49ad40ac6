"""Request bodies through nginx: intact to the backend, and signed bodies verified.

auth_request cannot pass a body to Gatekeeper (proxy-facts §1.4), so a body-signed request
there must be denied (`body_unavailable`); the /signed/ location runs gate.js, which passes
the body, so the same request is verified and allowed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from byteforge_hmac import HMACClient

from authz.tests.e2e.cases import (
    CHALLENGE_HMAC,
    bearer,
    check_signed_body_unavailable,
    check_signed_empty_body_passes,
    decision_logged,
)
from authz.tests.e2e.client import request
from authz.tests.e2e.proxies import error_log, nginx

pytestmark = [
    pytest.mark.needs("nginx", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

MIB = 1024 * 1024
# (size, chunked): the sizes of issue 5; 2 MiB is the /signed/ location's limit.
BODIES = [(10, False), (10 * 1024, False), (2 * MIB, False), (10, True), (2 * MIB, True)]


def body_id(case: tuple[int, bool]) -> str:
    size, chunked = case
    return f"{size}B-{'chunked' if chunked else 'length'}"


def text_body(size: int) -> str:
    """ASCII (the HMAC client signs text), different at every offset and for every size."""
    return random.Random(size).randbytes(size // 2 + 1).hex()[:size]


@pytest.mark.parametrize("location", ["/api/data", "/signed/data"])
@pytest.mark.parametrize("case", BODIES, ids=body_id)
def test_a_body_reaches_the_backend_byte_for_byte(scene, nginx_proxy, backend, location, case):
    size, chunked = case
    body = random.Random(size).randbytes(size)

    reply = request(
        nginx_proxy.port,
        "PUT",
        f"{location}/upload",
        headers=bearer(scene.world.acme_key),
        body=body,
        chunked=chunked,
    )

    assert reply.status == 200, reply.body
    [received] = backend.received
    assert received.body == body
    assert received.header("X-Auth-Client-Name") == "acme"


@pytest.mark.parametrize("case", BODIES, ids=body_id)
def test_a_signed_body_is_verified_by_gatekeeper_and_reaches_the_backend(
    scene, nginx_proxy, backend, case
):
    size, chunked = case
    body = text_body(size)
    target = "/signed/data/orders?batch=1"
    signature = scene.world.signer()._create_auth_header("POST", target, body)

    reply = request(
        nginx_proxy.port,
        "POST",
        target,
        headers=[("Authorization", signature)],
        body=body.encode(),
        chunked=chunked,
    )

    assert reply.status == 200, reply.body
    [received] = backend.received
    assert received.body == body.encode()
    assert received.header("X-Auth-Client-ID") == str(scene.world.acme.id)
    assert received.header("X-Auth-Route-ID") == str(scene.signed.id)


def test_the_hmac_client_posts_json_through_njs(scene, nginx_proxy, backend):
    world = scene.world
    client = HMACClient(
        str(world.acme.id), world.acme_secret, f"http://127.0.0.1:{nginx_proxy.port}"
    )
    order = {"order": 7, "items": [{"sku": "A-1", "qty": 2}], "note": "ünïcode"}

    response = client.post("/signed/data/orders", data=order, timeout=10)

    assert response.status_code == 200, response.text
    [received] = backend.received
    assert json.loads(received.body) == order
    assert received.header("Content-Type") == "application/json"
    assert received.header("X-Auth-Client-Name") == "acme"


def test_a_signed_body_with_one_byte_changed_is_denied(scene, nginx_proxy, backend):
    target = "/signed/data/orders"
    body = json.dumps({"order": 7, "amount": 100})
    signature = scene.world.signer()._create_auth_header("POST", target, body)
    tampered = body.replace("100", "900").encode()

    reply = request(
        nginx_proxy.port, "POST", target, headers=[("Authorization", signature)], body=tampered
    )

    assert (reply.status, reply.json()) == (401, {"error": "invalid_credentials"})
    assert reply.values("WWW-Authenticate") == [CHALLENGE_HMAC]
    assert backend.received == []


def test_a_signed_request_sent_twice_is_denied_the_second_time(scene, nginx_proxy, backend):
    target = "/signed/data/orders"
    body = '{"order": 8}'
    headers = [("Authorization", scene.world.signer()._create_auth_header("POST", target, body))]

    first = request(nginx_proxy.port, "POST", target, headers=headers, body=body.encode())
    second = request(nginx_proxy.port, "POST", target, headers=headers, body=body.encode())

    assert (first.status, second.status) == (200, 401)
    assert len(backend.received) == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_a_signed_body_through_auth_request_is_denied_as_unavailable(
    scene, nginx_proxy, backend, gatekeeper, chunked
):
    check_signed_body_unavailable(
        scene.world, nginx_proxy.port, backend, gatekeeper, chunked=chunked
    )


def test_a_signed_request_without_a_body_passes_auth_request(scene, nginx_proxy, backend):
    check_signed_empty_body_passes(scene.world, nginx_proxy.port, backend)


def test_a_body_over_the_signed_locations_limit_is_refused_by_nginx(scene, nginx_proxy, backend):
    reply = request(
        nginx_proxy.port,
        "PUT",
        "/signed/data/upload",
        headers=bearer(scene.world.acme_key),
        body=b"x" * (2 * MIB + 1),
    )

    assert reply.status == 413
    assert backend.received == []


def signed_location(conf: str, *, limit: str, buffer: str) -> str:
    """gatekeeper.conf with other body sizes in the /signed/ location."""
    shipped = "client_max_body_size 2m;\n            client_body_buffer_size 2m;"
    assert shipped in conf
    return conf.replace(
        shipped, f"client_max_body_size {limit};\n            client_body_buffer_size {buffer};"
    )


def test_a_body_njs_cannot_hold_in_memory_is_never_verified_as_empty(
    scene, gatekeeper, backend, tmp_path: Path
):
    """With client_body_buffer_size below the body, nginx keeps the body in a file that njs
    cannot read: gate.js asks without it, and Gatekeeper denies the signed request; a request
    that needs no body signature still passes, body intact."""

    def small_buffer(conf: str) -> str:
        return signed_location(conf, limit="2m", buffer="8k")

    target = "/signed/data/orders"
    body = text_body(100 * 1024)
    signature = scene.world.signer()._create_auth_header("POST", target, body)
    with nginx(
        tmp_path, gatekeeper_port=gatekeeper.port, backend_port=backend.port, edit=small_buffer
    ) as proxy:
        signed = request(
            proxy.port, "POST", target, headers=[("Authorization", signature)], body=body.encode()
        )
        keyed = request(
            proxy.port,
            "PUT",
            "/signed/data/upload",
            headers=bearer(scene.world.acme_key),
            body=body.encode(),
        )

    assert (signed.status, signed.json()) == (401, {"error": "invalid_credentials"})
    assert decision_logged(gatekeeper, target, "detail=body_unavailable")
    assert "request body is in a file" in error_log(proxy)
    assert keyed.status == 200
    assert [r.body for r in backend.received] == [body.encode()]


def test_a_body_over_gatekeepers_own_limit_is_denied_as_unavailable(
    scene, gatekeeper, backend, tmp_path: Path
):
    target = "/signed/data/orders"
    # Over GATEKEEPER_MAX_BODY_BYTES (4 MiB), in a location whose limits were raised above it.
    body = text_body(5 * MIB)
    signature = scene.world.signer()._create_auth_header("POST", target, body)
    with nginx(
        tmp_path,
        gatekeeper_port=gatekeeper.port,
        backend_port=backend.port,
        edit=lambda conf: signed_location(conf, limit="8m", buffer="8m"),
    ) as proxy:
        reply = request(
            proxy.port, "POST", target, headers=[("Authorization", signature)], body=body.encode()
        )

    assert backend.received == []
    assert (reply.status, reply.json()) == (401, {"error": "invalid_credentials"})
