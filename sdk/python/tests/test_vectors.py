"""Every shared vector (sdk/testdata/vectors.json, made by Gatekeeper's verifier) is signed
exactly: the same string to sign, the same signature, the same Authorization header."""

from __future__ import annotations

import base64

import pytest
from vectors import body_of, load

from gatekeeper_client import sign, signature, string_to_sign

VECTORS = load()


def test_the_vectors_cover_the_cases_that_break_signatures():
    names = {vector["name"] for vector in VECTORS}
    assert {
        "get-query-with-reserved-characters",
        "get-utf8-path-percent-encoded",
        "post-empty-body",
        "post-json-body",
        "put-binary-body",
    } <= names


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_each_vector_is_signed_as_gatekeeper_verifies_it(vector):
    body = body_of(vector)
    method, target = vector["method"], vector["target"]
    timestamp, nonce, secret = vector["timestamp"], vector["nonce"], vector["secret"]

    assert string_to_sign(method, target, timestamp, nonce, body) == base64.b64decode(
        vector["string_to_sign_b64"]
    )
    assert signature(secret, method, target, timestamp, nonce, body) == vector["signature"]
    header = sign(
        method,
        target,
        body,
        client_id=vector["client_id"],
        secret=secret,
        timestamp=timestamp,
        nonce=nonce,
    )
    assert header == vector["authorization"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_a_secret_given_as_bytes_signs_the_same(vector):
    secret = vector["secret"].encode("utf-8")
    args = (vector["method"], vector["target"], vector["timestamp"], vector["nonce"])
    assert signature(secret, *args, body_of(vector)) == vector["signature"]
