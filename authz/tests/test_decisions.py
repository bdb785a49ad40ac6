"""Every reason of design §5 and every 401 detail, through /authz with the real database."""

from __future__ import annotations

import logging
import time

import pytest

from authz.tests.wire import SIGNED, bearer, crafted_hmac, hmac_header

CASES = [
    # (id, method, uri, headers(world), status, reason, detail)
    ("public", "GET", "/api/public/x", lambda w: {}, 200, "no_auth_required", None),
    (
        "public-ignores-bad-creds",
        "GET",
        "/api/public/x",
        lambda w: bearer("nope"),
        200,
        "no_auth_required",
        None,
    ),
    ("api-key", "GET", "/api/data/x", lambda w: bearer(w.acme_key), 200, "authenticated", None),
    (
        "api-key-lower-scheme",
        "GET",
        "/api/data/x",
        lambda w: {SIGNED: f"bearer {w.acme_key}"},
        200,
        "authenticated",
        None,
    ),
    (
        "api-key-apikey-scheme",
        "GET",
        "/api/data/x",
        lambda w: {SIGNED: f"ApiKey {w.acme_key}"},
        200,
        "authenticated",
        None,
    ),
    (
        "api-key-bare",
        "GET",
        "/api/data/x",
        lambda w: {SIGNED: w.acme_key},
        200,
        "authenticated",
        None,
    ),
    (
        "api-key-header",
        "GET",
        "/api/data/x",
        lambda w: {"HTTP_X_API_KEY": w.acme_key},
        200,
        "authenticated",
        None,
    ),
    ("api-key-query", "GET", "/api/data/x?api_key={key}", lambda w: {}, 200, "authenticated", None),
    (
        "same-key-twice",
        "GET",
        "/api/data/x?api_key={key}",
        lambda w: bearer(w.acme_key),
        200,
        "authenticated",
        None,
    ),
    (
        "any-with-key",
        "PUT",
        "/api/data/x",
        lambda w: bearer(w.acme_key),
        200,
        "authenticated",
        None,
    ),
    (
        "any-with-hmac",
        "PUT",
        "/api/data/x",
        lambda w: hmac_header(w, "PUT", "/api/data/x"),
        200,
        "authenticated",
        None,
    ),
    (
        "hmac-get-with-query",
        "POST",
        "/api/data/x?q=1",
        lambda w: hmac_header(w, "POST", "/api/data/x?q=1"),
        200,
        "authenticated",
        None,
    ),
    ("no-route", "GET", "/other", lambda w: bearer(w.acme_key), 403, "no_route_match", None),
    ("usersX", "GET", "/api/dataX", lambda w: bearer(w.acme_key), 403, "no_route_match", None),
    (
        "method-not-configured",
        "PATCH",
        "/api/data/x",
        lambda w: bearer(w.acme_key),
        403,
        "method_not_configured",
        None,
    ),
    (
        "method-is-case-sensitive",
        "get",
        "/api/data/x",
        lambda w: bearer(w.acme_key),
        403,
        "method_not_configured",
        None,
    ),
    (
        "missing",
        "GET",
        "/api/data/x",
        lambda w: {},
        401,
        "invalid_credentials",
        "missing_credentials",
    ),
    (
        "bare-bearer",
        "GET",
        "/api/data/x",
        lambda w: {SIGNED: "Bearer"},
        401,
        "invalid_credentials",
        "missing_credentials",
    ),
    (
        "basic-is-not-a-key",
        "GET",
        "/api/data/x",
        lambda w: {SIGNED: "Basic dXNlcjpwYXNz"},
        401,
        "invalid_credentials",
        "missing_credentials",
    ),
    (
        "unknown",
        "GET",
        "/api/data/x",
        lambda w: bearer("gk_nothere0_" + "x" * 32),
        401,
        "invalid_credentials",
        "unknown_credential",
    ),
    (
        "expired",
        "GET",
        "/api/data/x",
        lambda w: bearer(w.expired_key),
        401,
        "invalid_credentials",
        "expired_credential",
    ),
    (
        "key-on-hmac-method",
        "POST",
        "/api/data/x",
        lambda w: bearer(w.acme_key),
        401,
        "invalid_credentials",
        "wrong_auth_type",
    ),
    (
        "hmac-on-key-method",
        "DELETE",
        "/api/data/x",
        lambda w: hmac_header(w, "DELETE", "/api/data/x"),
        401,
        "invalid_credentials",
        "wrong_auth_type",
    ),
    (
        "wrong-secret",
        "POST",
        "/api/data/x",
        lambda w: hmac_header(w, "POST", "/api/data/x", secret="not-the-secret"),
        401,
        "invalid_credentials",
        "invalid_signature",
    ),
    (
        "query-is-signed",
        "POST",
        "/api/data/x?q=2",
        lambda w: hmac_header(w, "POST", "/api/data/x?q=1"),
        401,
        "invalid_credentials",
        "invalid_signature",
    ),
    (
        "unknown-hmac-client",
        "POST",
        "/api/data/x",
        lambda w: hmac_header(
            w, "POST", "/api/data/x", client_id="00000000-0000-0000-0000-000000000000"
        ),
        401,
        "invalid_credentials",
        "unknown_credential",
    ),
    (
        "stale",
        "POST",
        "/api/data/x",
        lambda w: crafted_hmac(w, "POST", "/api/data/x", timestamp=int(time.time()) - 310),
        401,
        "invalid_credentials",
        "stale_timestamp",
    ),
    (
        "future",
        "POST",
        "/api/data/x",
        lambda w: crafted_hmac(w, "POST", "/api/data/x", timestamp=int(time.time()) + 310),
        401,
        "invalid_credentials",
        "stale_timestamp",
    ),
    (
        "body-unavailable",
        "POST",
        "/api/data/x",
        lambda w: {**hmac_header(w, "POST", "/api/data/x"), "HTTP_X_ORIGINAL_CONTENT_LENGTH": "12"},
        401,
        "invalid_credentials",
        "body_unavailable",
    ),
    (
        "conflicting-keys",
        "GET",
        "/api/data/x",
        lambda w: {**bearer(w.acme_key), "HTTP_X_API_KEY": w.stranger_key},
        401,
        "invalid_credentials",
        "conflicting_credentials",
    ),
    (
        "conflicting-query",
        "GET",
        "/api/data/x?api_key=other",
        lambda w: bearer(w.acme_key),
        401,
        "invalid_credentials",
        "conflicting_credentials",
    ),
    (
        "key-and-hmac",
        "PUT",
        "/api/data/x",
        lambda w: {**hmac_header(w, "PUT", "/api/data/x"), "HTTP_X_API_KEY": w.acme_key},
        401,
        "invalid_credentials",
        "conflicting_credentials",
    ),
    (
        "malformed-hmac",
        "POST",
        "/api/data/x",
        lambda w: {SIGNED: 'HMAC client_id="x",timestamp="1"'},
        401,
        "invalid_credentials",
        "malformed_credentials",
    ),
    (
        "duplicate-hmac-field",
        "POST",
        "/api/data/x",
        lambda w: {SIGNED: hmac_header(w, "POST", "/api/data/x")[SIGNED] + ',nonce="again"'},
        401,
        "invalid_credentials",
        "malformed_credentials",
    ),
    (
        "suspended",
        "GET",
        "/api/data/x",
        lambda w: bearer(w.suspended_key),
        403,
        "client_suspended",
        None,
    ),
    ("revoked", "GET", "/api/data/x", lambda w: bearer(w.revoked_key), 403, "client_revoked", None),
    (
        "no-permission",
        "GET",
        "/api/data/x",
        lambda w: bearer(w.stranger_key),
        403,
        "no_permission",
        None,
    ),
    (
        "no-permission-admin",
        "GET",
        "/api/admin/x",
        lambda w: bearer(w.acme_key),
        403,
        "no_permission",
        None,
    ),
    (
        "method-not-allowed",
        "DELETE",
        "/api/data/x",
        lambda w: bearer(w.acme_key),
        403,
        "method_not_allowed",
        None,
    ),
    (
        "dot-segment",
        "GET",
        "/api/public/../admin/x",
        lambda w: bearer(w.acme_key),
        403,
        "malformed_request",
        "ambiguous_path",
    ),
    ("missing-uri", "GET", None, lambda w: {}, 403, "malformed_request", "missing_header"),
    (
        "bad-host",
        "GET",
        "/api/public/x",
        lambda w: {"HTTP_X_ORIGINAL_HOST": "evil.test, good.test"},
        403,
        "malformed_request",
        "bad_host",
    ),
    (
        "duplicate-uri",
        "GET",
        "/api/admin/x,/api/public/ok",
        lambda w: {},
        403,
        "malformed_request",
        "duplicate_header",
    ),
    (
        "untrusted-peer",
        "GET",
        "/api/public/x",
        lambda w: {"REMOTE_ADDR": "192.0.2.7"},
        403,
        "malformed_request",
        "untrusted_peer",
    ),
]


@pytest.mark.parametrize(
    ("method", "uri", "headers", "status", "reason", "detail"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decision(world, ask, caplog, method, uri, headers, status, reason, detail):
    caplog.set_level(logging.INFO, logger="gatekeeper.decisions")
    if uri is not None:
        uri = uri.replace("{key}", world.acme_key)
    response = ask(method, uri, **headers(world))
    assert response.status_code == status
    assert response["X-Auth-Reason"] == reason
    assert response.content == b""
    authenticated = reason == "authenticated"
    assert response["X-Auth-Client-ID"] == (str(world.acme.id) if authenticated else "")
    assert response["X-Auth-Client-Name"] == ("acme" if authenticated else "")
    assert bool(response["X-Auth-Route-ID"]) == (status == 200)
    assert response.has_header("WWW-Authenticate") == (status == 401)
    if detail is not None:
        assert f"detail={detail}" in caplog.text


def test_route_id_names_the_matched_route(world, ask):
    response = ask("GET", "/api/data/x", **bearer(world.acme_key))
    assert response["X-Auth-Route-ID"] == str(world.data.id)
