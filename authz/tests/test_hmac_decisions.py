"""HMAC through /authz: nonces, signed bodies, and the challenge a 401 carries."""

from __future__ import annotations

import logging

from authz.tests.wire import SIGNED, crafted_hmac, hmac_header


def test_a_nonce_is_accepted_once(world, ask, caplog):
    caplog.set_level(logging.INFO, logger="gatekeeper.decisions")
    headers = hmac_header(world, "POST", "/api/data/x")
    assert ask("POST", "/api/data/x", **headers)["X-Auth-Reason"] == "authenticated"
    replay = ask("POST", "/api/data/x", **headers)
    assert replay.status_code == 401
    assert "detail=replayed_nonce" in caplog.text


def test_a_wrong_signature_does_not_burn_the_nonce(world, ask):
    bad = crafted_hmac(world, "POST", "/api/data/x", nonce="burn-me")
    bad[SIGNED] = bad[SIGNED][:-5] + '0000"'
    assert ask("POST", "/api/data/x", **bad).status_code == 401
    good = crafted_hmac(world, "POST", "/api/data/x", nonce="burn-me")
    assert ask("POST", "/api/data/x", **good)["X-Auth-Reason"] == "authenticated"


def test_a_signed_body_passes_and_a_changed_byte_fails(world, decider):
    body = '{"amount": 10}'
    headers = {
        "HTTP_X_ORIGINAL_METHOD": "POST",
        "HTTP_X_ORIGINAL_URI": "/api/data/pay",
        "HTTP_X_ORIGINAL_HOST": "api.example.com",
        **hmac_header(world, "POST", "/api/data/pay", body),
    }
    ok = decider.post("/authz", data=body, content_type="application/json", **headers)
    assert ok["X-Auth-Reason"] == "authenticated"
    tampered = hmac_header(world, "POST", "/api/data/pay", body)
    headers.update(tampered)
    bad = decider.post(
        "/authz", data=body.replace("10", "90"), content_type="application/json", **headers
    )
    assert bad.status_code == 401


def test_challenge_names_the_scheme_the_method_needs(world, ask):
    assert ask("GET", "/api/data/x")["WWW-Authenticate"] == 'Bearer realm="gatekeeper"'
    assert ask("POST", "/api/data/x")["WWW-Authenticate"] == 'HMAC realm="gatekeeper"'
    assert "HMAC" in ask("PUT", "/api/data/x")["WWW-Authenticate"]
