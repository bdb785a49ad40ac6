"""HMAC signatures: compatible with byteforge-hmac, and any change to a signed part breaks them."""

from __future__ import annotations

from byteforge_hmac import HMACClient
from hypothesis import given
from hypothesis import strategies as st

from authz.credentials import HmacFields, extract
from authz.signatures import find_signer, sign, timestamp_fresh

SECRET = b"s3cret-value-for-tests"
METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
TARGETS = st.text(alphabet="abcXYZ019/?=&%-._~", min_size=1, max_size=40).map(lambda t: "/" + t)
TIMESTAMPS = st.integers(min_value=0, max_value=10**11).map(str)
NONCES = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36)
BODIES = st.binary(max_size=64)


def fields(method, target, timestamp, nonce, body, secret=SECRET) -> HmacFields:
    return HmacFields("c", timestamp, nonce, sign(secret, method, target, timestamp, nonce, body))


@given(METHODS, TARGETS, TIMESTAMPS, NONCES, BODIES)
def test_a_signature_verifies_over_what_was_signed(method, target, timestamp, nonce, body):
    signed = fields(method, target, timestamp, nonce, body)
    assert find_signer([SECRET], signed, method, target, body) == 0


@given(METHODS, TARGETS, TIMESTAMPS, NONCES, BODIES, st.data())
def test_any_change_breaks_the_signature(method, target, timestamp, nonce, body, data):
    signed = fields(method, target, timestamp, nonce, body)
    part = data.draw(st.sampled_from(["method", "target", "timestamp", "nonce", "body"]))
    changed = {
        "method": method,
        "target": target,
        "timestamp": timestamp,
        "nonce": nonce,
        "body": body,
    }
    strategy = {
        "method": METHODS,
        "target": TARGETS,
        "timestamp": TIMESTAMPS,
        "nonce": NONCES,
        "body": BODIES,
    }
    changed[part] = data.draw(strategy[part].filter(lambda value: value != changed[part]))
    presented = HmacFields("c", changed["timestamp"], changed["nonce"], signed.signature)
    assert (
        find_signer([SECRET], presented, changed["method"], changed["target"], changed["body"])
        is None
    )


def test_the_byteforge_client_signs_what_gatekeeper_verifies():
    client = HMACClient("7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11", SECRET.decode())
    header = client._create_auth_header("POST", "/api/data/x?q=1", '{"a": 1}')
    presented = extract(header, None, None, ())
    assert presented.hmac is not None
    assert presented.hmac.client_id == "7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11"
    assert find_signer([SECRET], presented.hmac, "POST", "/api/data/x?q=1", b'{"a": 1}') == 0
    assert find_signer([SECRET], presented.hmac, "POST", "/api/data/x", b'{"a": 1}') is None


def test_every_live_secret_is_tried_during_rotation():
    old, new = b"old-secret", b"new-secret"
    signed = fields("GET", "/x", "1", "n", b"", secret=old)
    assert find_signer([new, old], signed, "GET", "/x", b"") == 1
    assert find_signer([new], signed, "GET", "/x", b"") is None
    assert find_signer([], signed, "GET", "/x", b"") is None


def test_timestamps_are_fresh_within_the_skew_both_ways():
    assert timestamp_fresh("1000", 1300, 300)
    assert timestamp_fresh("1600", 1300, 300)
    assert not timestamp_fresh("999", 1300, 300)
    assert not timestamp_fresh("1601", 1300, 300)
