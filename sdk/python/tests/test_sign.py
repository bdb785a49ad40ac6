"""`sign`: the current time and a fresh nonce for every request, and a clear error (never
echoing the target or a secret) for a request Gatekeeper could never accept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper_client import new_nonce, sign, signing

SECRET = "q9Vh3xk2Zf8Lr0mT5wYbN1cE7sJ4pA6dG2uH0iK3oQ"
CLIENT = "7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11"
FIELDS = re.compile(r'HMAC client_id="[^"]+",timestamp="([0-9]+)",nonce="([^"]+)",signature=')


def fields(header: str) -> tuple[int, str]:
    match = FIELDS.match(header)
    assert match, header
    return int(match.group(1)), match.group(2)


def test_every_signature_gets_a_nonce_of_its_own():
    nonces = {fields(sign("GET", "/x", client_id=CLIENT, secret=SECRET))[1] for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", nonce) for nonce in nonces)


def test_each_signature_reads_the_clock_when_it_is_made(monkeypatch):
    clock = iter([1767225600.9, 1767225900.2])
    monkeypatch.setattr(signing.time, "time", lambda: next(clock))

    first = sign("GET", "/x", client_id=CLIENT, secret=SECRET)
    second = sign("GET", "/x", client_id=CLIENT, secret=SECRET)

    assert [fields(first)[0], fields(second)[0]] == [1767225600, 1767225900]


def test_the_method_is_signed_upper_case_as_http_clients_send_it():
    lower = sign("post", "/x", client_id=CLIENT, secret=SECRET, timestamp=1, nonce="n")
    upper = sign("POST", "/x", client_id=CLIENT, secret=SECRET, timestamp=1, nonce="n")
    assert lower == upper


@pytest.mark.parametrize(
    "target",
    [
        "/api/café",  # raw UTF-8: send /api/caf%C3%A9
        "/api/a b",  # raw space
        "/api/x#fragment",  # fragments are never sent
        "api/x",  # not origin-form
        "https://api.example.com/x",  # a URL, not a target
        "",
        "/api/x\r\nX-Injected: 1",
    ],
)
def test_a_target_that_cannot_be_sent_as_is_is_refused(target):
    with pytest.raises(ValueError, match="exactly as sent"):
        sign("GET", target, client_id=CLIENT, secret=SECRET)


def test_the_error_for_a_bad_target_does_not_repeat_a_key_in_its_query():
    with pytest.raises(ValueError, match="exactly as sent") as raised:
        sign("GET", "/x?api_key=gk_abc_secretpart here", client_id=CLIENT, secret=SECRET)
    assert "secretpart" not in str(raised.value)


@pytest.mark.parametrize("nonce", ["", "a,b", 'a"b', "a b", "é", "x" * 129])
def test_a_nonce_gatekeeper_cannot_parse_is_refused(nonce):
    with pytest.raises(ValueError, match="nonce"):
        sign("GET", "/x", client_id=CLIENT, secret=SECRET, nonce=nonce)


@pytest.mark.parametrize("client_id", ["", "a,b", 'a"b', "a b"])
def test_a_client_id_that_would_break_the_header_is_refused(client_id):
    with pytest.raises(ValueError, match="client id"):
        sign("GET", "/x", client_id=client_id, secret=SECRET)


def test_a_method_that_is_not_a_token_is_refused():
    with pytest.raises(ValueError, match="method"):
        sign("GET /x", "/x", client_id=CLIENT, secret=SECRET)


def test_no_error_holds_the_secret():
    for bad in ({"nonce": "a,b"}, {"client_id": ""}, {"timestamp": -1}):
        arguments = {"client_id": CLIENT, "secret": SECRET, **bad}
        with pytest.raises(ValueError, match=r"nonce|client id|timestamp") as raised:
            sign("GET", "/x", **arguments)
        assert SECRET not in str(raised.value)


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_a_str_body_is_signed_as_its_utf8_bytes(prefix, suffix):
    text = (prefix + suffix).decode("latin-1")
    as_text = sign("PUT", "/x", text, client_id=CLIENT, secret=SECRET, timestamp=1, nonce="n")
    as_bytes = sign(
        "PUT", "/x", text.encode("utf-8"), client_id=CLIENT, secret=SECRET, timestamp=1, nonce="n"
    )
    assert as_text == as_bytes


def test_new_nonce_is_128_random_bits():
    assert len({new_nonce() for _ in range(100)}) == 100
    assert len(new_nonce()) == 32
