"""`httpx` (sync and async) with GatekeeperHmacAuth / GatekeeperKeyAuth, against a server that
records what arrived: the signature covers the target and body bytes as they were sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from cases import AUTH, CLIENT, JSON_BODY, KEY, SECRET, TARGETS

from gatekeeper_client import GatekeeperHmacAuth, GatekeeperKeyAuth


@pytest.mark.parametrize("target", TARGETS)
def test_the_signed_target_is_the_one_on_the_wire(wire, target):
    response = httpx.get(wire.base + target, auth=AUTH, timeout=5)

    assert response.status_code == 200
    arrived = wire.one()
    assert arrived.verifies(SECRET), arrived.target


def chunks() -> Iterator[bytes]:
    yield b"first "
    yield "second \u00e9".encode()


BODIES = {
    "bytes": {"content": bytes(range(256))},
    "str-utf8": {"content": "ünïcode ✓"},
    "json": {"json": JSON_BODY},
    "form": {"data": {"a": "1 2", "b": "é&="}},
    "multipart": {"files": {"upload": ("x.bin", b"\x00\xff data")}},
    "generator-chunked": {"content": chunks()},
    "empty": {"content": b""},
}


@pytest.mark.parametrize("kind", BODIES)
def test_the_signed_body_is_the_one_on_the_wire(wire, kind):
    response = httpx.post(wire.base + "/v1/orders?x=1", auth=AUTH, timeout=5, **BODIES[kind])

    assert response.status_code == 200
    arrived = wire.one()
    assert arrived.verifies(SECRET)
    if kind == "json":
        assert json.loads(arrived.body) == JSON_BODY


async def async_chunks() -> AsyncIterator[bytes]:
    yield b"async "
    yield "body \u00e9".encode()


def test_the_async_client_signs_a_streamed_body_as_sent(wire):
    async def send() -> list[int]:
        async with httpx.AsyncClient(auth=AUTH, timeout=5) as client:
            first = await client.put(wire.base + "/v1/a b?q=%e2%9c%93", content=async_chunks())
            second = await client.get(wire.base + "/v1/orders")
            return [first.status_code, second.status_code]

    assert asyncio.run(send()) == [200, 200]
    arrived = wire.take()
    assert [request.body for request in arrived] == ["async body é".encode(), b""]
    assert all(request.verifies(SECRET) for request in arrived)


def test_each_request_of_a_client_is_signed_anew(wire):
    with httpx.Client(auth=GatekeeperHmacAuth(CLIENT, SECRET), timeout=5) as client:
        for _ in range(3):
            client.get(wire.base + "/v1/orders")

    arrived = wire.take()
    assert len({request.signed_fields()[2] for request in arrived}) == 3
    assert all(request.verifies(SECRET) for request in arrived)


def test_a_key_goes_in_the_authorization_header_as_a_bearer_token(wire):
    httpx.get(wire.base + "/v1/orders", auth=GatekeeperKeyAuth(KEY), timeout=5)
    assert wire.one().headers["authorization"] == f"Bearer {KEY}"


def test_they_are_httpx_auth_objects():
    assert isinstance(AUTH, httpx.Auth)
    assert isinstance(GatekeeperKeyAuth(KEY), httpx.Auth)
