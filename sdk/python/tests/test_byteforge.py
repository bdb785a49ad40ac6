"""Wire compatibility with `byteforge-hmac`, the client Gatekeeper's users sign with today:
the same request signed by both gives the same signature, and byteforge's own server-side
authenticator accepts our header."""

from __future__ import annotations

from byteforge_hmac import AuthHeaderParser, DictSecretProvider, HMACAuthenticator, HMACClient
from hypothesis import given
from hypothesis import strategies as st
from vectors import body_of, load

from gatekeeper_client import sign, signature

METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
TARGETS = st.text(alphabet="abcXYZ019/?=&%-._~:@!$'()*+,;", max_size=60).map(lambda t: "/" + t)
NONCES = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36)
SECRETS = st.text(min_size=1, max_size=40)


@given(METHODS, TARGETS, st.integers(0, 10**11), NONCES, st.text(max_size=80), SECRETS)
def test_byteforge_and_this_library_sign_alike(method, target, timestamp, nonce, body, secret):
    theirs = HMACClient("c", secret)._generate_signature(
        method, target, str(timestamp), nonce, body
    )
    assert signature(secret, method, target, timestamp, nonce, body) == theirs


def test_byteforge_signs_every_text_vector_as_the_vectors_say():
    checked = 0
    for vector in load():
        try:
            text = body_of(vector).decode("utf-8")
        except UnicodeDecodeError:
            continue  # byteforge signs str bodies only
        client = HMACClient(vector["client_id"], vector["secret"])
        theirs = client._generate_signature(
            vector["method"], vector["target"], str(vector["timestamp"]), vector["nonce"], text
        )
        assert theirs == vector["signature"], vector["name"]
        checked += 1
    assert checked >= 10


def test_byteforges_authenticator_accepts_our_header():
    secret = "q9Vh3xk2Zf8Lr0mT5wYbN1cE7sJ4pA6dG2uH0iK3oQ"
    body = '{"order": 7, "note": "ünïcode"}'
    header = sign("POST", "/v1/orders?batch=1", body, client_id="acme", secret=secret)

    parsed = AuthHeaderParser.parse(header)
    authenticator = HMACAuthenticator(DictSecretProvider({"acme": secret}))

    assert parsed is not None
    assert authenticator.authenticate(parsed, "POST", "/v1/orders?batch=1", body)
    # ...once: byteforge refuses the replay, as Gatekeeper does.
    assert not authenticator.authenticate(parsed, "POST", "/v1/orders?batch=1", body)
