"""requests and httpx with GatekeeperHmacAuth / GatekeeperKeyAuth, against a server that
records what arrived: the signature always covers the target and body bytes as they were on
the wire, and every request is signed anew."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from types import ModuleType

import httpx
import pytest
import requests
from cases import AUTH, CLIENT, JSON_BODY, KEY, SECRET, TARGETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper_client import GatekeeperHmacAuth, GatekeeperKeyAuth

LIBRARIES = [pytest.param(requests, id="requests"), pytest.param(httpx, id="httpx")]
BODY_KINDS = ["bytes", "str-utf8", "json", "form", "multipart", "file", "generator", "empty"]


def chunks() -> Iterator[bytes]:
    yield b"first "
    yield "second \u00e9".encode()


def body(library: ModuleType, kind: str) -> dict[str, object]:
    """The keyword arguments that give `library` a body of this kind (made fresh: a file or
    generator can be read once)."""
    raw = "data" if library is requests else "content"
    return {
        "bytes": {raw: bytes(range(256))},
        "str-utf8": {raw: "ünïcode ✓"},
        "json": {"json": JSON_BODY},
        "form": {"data": {"a": "1 2", "b": "é&="}},
        "multipart": {"files": {"upload": ("x.bin", b"\x00\xff data")}},
        "file": {raw: io.BytesIO(b"from a file\r\n")},
        "generator": {raw: chunks()},
        "empty": {raw: b""},
    }[kind]


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("target", TARGETS)
def test_the_signed_target_is_the_one_on_the_wire(wire, library, target):
    response = library.request("GET", wire.base + target, auth=AUTH, timeout=5)

    assert response.status_code == 200
    arrived = wire.one()
    assert arrived.verifies(SECRET), arrived.target


URL_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="#\r\n\t\x00", exclude_categories=["Cs", "Cc"]),
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(library=st.sampled_from([requests, httpx]), path=URL_TEXT, query=URL_TEXT)
def test_any_url_the_library_will_send_is_signed_as_sent(wire, library, path, query):
    wire.take()
    library.request("GET", f"{wire.base}/p/{path}?{query}", auth=AUTH, timeout=5)
    arrived = wire.one()
    assert arrived.verifies(SECRET), arrived.target


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("kind", BODY_KINDS)
def test_the_signed_body_is_the_one_on_the_wire(wire, library, kind):
    url = wire.base + "/v1/orders?x=1"
    response = library.request("POST", url, auth=AUTH, timeout=5, **body(library, kind))

    assert response.status_code == 200
    arrived = wire.one()
    assert arrived.verifies(SECRET)
    if kind == "json":
        assert json.loads(arrived.body) == JSON_BODY


def test_requests_sends_a_streamed_body_with_the_length_it_signed(wire):
    requests.put(wire.base + "/v1/blob", data=chunks(), auth=AUTH, timeout=5)
    arrived = wire.one()
    assert "transfer-encoding" not in arrived.headers
    assert arrived.headers["content-length"] == str(len(arrived.body))


async def async_chunks() -> AsyncIterator[bytes]:
    yield b"async "
    yield "body \u00e9".encode()


def test_the_httpx_async_client_signs_a_streamed_body_as_sent(wire):
    async def send() -> list[int]:
        async with httpx.AsyncClient(auth=AUTH, timeout=5) as client:
            first = await client.put(wire.base + "/v1/a b?q=%e2%9c%93", content=async_chunks())
            second = await client.get(wire.base + "/v1/orders")
            return [first.status_code, second.status_code]

    assert asyncio.run(send()) == [200, 200]
    arrived = wire.take()
    assert [request.body for request in arrived] == ["async body é".encode(), b""]
    assert all(request.verifies(SECRET) for request in arrived)


@pytest.mark.parametrize("session", [requests.Session, httpx.Client], ids=["requests", "httpx"])
def test_each_request_of_a_session_is_signed_anew(wire, session):
    with session() as client:
        client.auth = GatekeeperHmacAuth(CLIENT, SECRET)
        for _ in range(3):
            client.get(wire.base + "/v1/orders")

    arrived = wire.take()
    assert len({request.signed_fields()[2] for request in arrived}) == 3
    assert all(request.verifies(SECRET) for request in arrived)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_key_goes_in_the_authorization_header_as_a_bearer_token(wire, library):
    library.request("GET", wire.base + "/v1/orders", auth=GatekeeperKeyAuth(KEY), timeout=5)
    assert wire.one().headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_key_can_go_in_x_api_key(wire, library):
    auth = GatekeeperKeyAuth(KEY, header="X-API-Key")
    library.request("GET", wire.base + "/v1/orders", auth=auth, timeout=5)
    arrived = wire.one()
    assert arrived.headers["x-api-key"] == KEY
    assert "authorization" not in arrived.headers


@pytest.mark.parametrize("key", ["", "two words", "tab\there"])
def test_a_key_that_cannot_be_sent_is_refused(key):
    with pytest.raises(ValueError, match="API key"):
        GatekeeperKeyAuth(key)


def test_the_auth_objects_never_show_their_secrets():
    key = "gk_abcd1234_" + "s" * 32
    assert (
        repr(GatekeeperKeyAuth(key)) == "GatekeeperKeyAuth(gk_abcd1234_..., header='Authorization')"
    )
    assert SECRET not in repr(AUTH)
    assert CLIENT in repr(AUTH)


def test_they_are_auth_objects_of_both_libraries():
    for auth in (AUTH, GatekeeperKeyAuth(KEY)):
        assert isinstance(auth, requests.auth.AuthBase)
        assert isinstance(auth, httpx.Auth)
