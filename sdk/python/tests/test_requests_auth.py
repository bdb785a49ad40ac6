"""`requests` with GatekeeperHmacAuth / GatekeeperKeyAuth, against a server that records what
arrived: the signature always covers the target and body bytes as they were on the wire."""

from __future__ import annotations

import io
import json

import pytest
import requests
from cases import AUTH, JSON_BODY, KEY, SECRET, TARGETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper_client import GatekeeperKeyAuth


@pytest.mark.parametrize("target", TARGETS)
def test_the_signed_target_is_the_one_on_the_wire(wire, target):
    response = requests.get(wire.base + target, auth=AUTH, timeout=5)

    assert response.status_code == 200
    arrived = wire.one()
    assert arrived.verifies(SECRET), arrived.target


URL_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="#\r\n\t\x00", exclude_categories=["Cs", "Cc"]),
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=URL_TEXT, query=URL_TEXT)
def test_any_url_requests_will_send_is_signed_as_sent(wire, path, query):
    wire.take()
    requests.get(f"{wire.base}/p/{path}?{query}", auth=AUTH, timeout=5)
    arrived = wire.one()
    assert arrived.verifies(SECRET), arrived.target


def generate():
    yield b"first "
    yield "second \u00e9".encode()


BODIES = {
    "bytes": {"data": bytes(range(256))},
    "str-utf8": {"data": "ünïcode ✓"},
    "json": {"json": JSON_BODY},
    "form": {"data": {"a": "1 2", "b": "é&="}},
    "multipart": {"files": {"upload": ("x.bin", b"\x00\xff data")}},
    "file": {"data": io.BytesIO(b"from a file\r\n")},
    "generator-chunked": {"data": generate()},
    "empty": {"data": b""},
}


@pytest.mark.parametrize("kind", BODIES)
def test_the_signed_body_is_the_one_on_the_wire(wire, kind):
    response = requests.post(wire.base + "/v1/orders?x=1", auth=AUTH, timeout=5, **BODIES[kind])

    assert response.status_code == 200
    arrived = wire.one()
    assert arrived.verifies(SECRET)
    assert "transfer-encoding" not in arrived.headers
    if kind == "json":
        assert json.loads(arrived.body) == JSON_BODY


def test_each_request_of_a_session_is_signed_anew(wire):
    with requests.Session() as session:
        session.auth = AUTH
        for _ in range(3):
            session.get(wire.base + "/v1/orders", timeout=5)

    arrived = wire.take()
    nonces = {request.signed_fields()[2] for request in arrived}
    assert len(nonces) == 3
    assert all(request.verifies(SECRET) for request in arrived)


def test_a_key_goes_in_the_authorization_header_as_a_bearer_token(wire):
    requests.get(wire.base + "/v1/orders", auth=GatekeeperKeyAuth(KEY), timeout=5)
    assert wire.one().headers["authorization"] == f"Bearer {KEY}"


def test_a_key_can_go_in_x_api_key(wire):
    auth = GatekeeperKeyAuth(KEY, header="X-API-Key")
    requests.get(wire.base + "/v1/orders", auth=auth, timeout=5)
    arrived = wire.one()
    assert arrived.headers["x-api-key"] == KEY
    assert "authorization" not in arrived.headers


@pytest.mark.parametrize("key", ["", "two words", "tab\there"])
def test_a_key_that_cannot_be_sent_is_refused(key):
    with pytest.raises(ValueError, match="API key"):
        GatekeeperKeyAuth(key)


def test_the_auth_objects_never_show_their_secrets():
    key = "gk_abcd1234_" + "s" * 32
    shown = repr(GatekeeperKeyAuth(key)) + repr(AUTH) + str(vars(AUTH).get("client_id"))
    assert "s" * 32 not in shown
    assert SECRET not in repr(AUTH)
    assert "gk_abcd1234" in repr(GatekeeperKeyAuth(key))


def test_they_are_requests_auth_objects():
    assert isinstance(AUTH, requests.auth.AuthBase)
    assert isinstance(GatekeeperKeyAuth("k"), requests.auth.AuthBase)
