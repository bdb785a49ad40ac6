"""The other proxies' ways of asking (proxy-facts §2-§3), with requests shaped as they send
them. nginx's own shape is covered by test_decisions.py and the attack corpus."""

from __future__ import annotations

import json

import pytest

from authz.tests.wire import bearer, hmac_header


@pytest.fixture
def asked(decider):
    def asked(method: str, path: str, body: bytes = b"", **headers: str):
        return decider.generic(method, path, data=body, **headers)

    return asked


def caddy(uri: str, method: str = "GET", host: str = "api.example.com", **extra: str) -> dict:
    """What Caddy's forward_auth sends (proxy-facts §2.1): GET to the decider, original query
    appended, X-Forwarded-* set by Caddy, every client header copied."""
    return {
        "HTTP_X_FORWARDED_METHOD": method,
        "HTTP_X_FORWARDED_URI": uri,
        "HTTP_X_FORWARDED_HOST": host,
        "HTTP_X_FORWARDED_PROTO": "http",
        "HTTP_X_FORWARDED_FOR": "127.0.0.1",
        **extra,
    }


def test_forward_allows_with_identity_headers_and_an_empty_body(world, asked):
    response = asked(
        "GET", "/authz/forward?y=1", **caddy("/api/data/x?y=1", **bearer(world.acme_key))
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Auth-Client-ID"] == str(world.acme.id)
    assert response["X-Auth-Client-Name"] == "acme"
    assert response["X-Auth-Route-ID"] == str(world.data.id)


@pytest.mark.parametrize(
    ("uri", "method", "headers", "status", "reason"),
    [
        ("/api/data/x", "GET", {}, 401, "invalid_credentials"),
        ("/api/data/x", "PATCH", {}, 403, "method_not_configured"),
        ("/elsewhere", "GET", {}, 403, "no_route_match"),
        ("/api/public/../data/x", "GET", {}, 403, "malformed_request"),
    ],
)
def test_forward_denials_carry_status_and_json_for_the_client(
    world, asked, uri, method, headers, status, reason
):
    response = asked("GET", "/authz/forward", **caddy(uri, method), **headers)
    assert response.status_code == status
    assert json.loads(response.content) == {"error": reason}
    assert response["X-Auth-Reason"] == reason
    # Every identity header is present, empty, so Caddy copies no placeholder (§2.3).
    for name in ("X-Auth-Client-ID", "X-Auth-Client-Name", "X-Auth-Route-ID"):
        assert response[name] == ""


def test_forward_answers_a_public_allow_with_empty_identity(world, asked):
    response = asked(
        "GET", "/authz/forward", **caddy("/api/public/x", HTTP_X_AUTH_CLIENT_ID="evil")
    )
    assert response.status_code == 200
    assert response["X-Auth-Client-ID"] == ""


def test_forward_decides_on_its_own_headers_not_on_x_original(world, asked):
    headers = caddy(
        "/api/admin/x", HTTP_X_ORIGINAL_URI="/api/public/x", HTTP_X_ORIGINAL_METHOD="GET"
    )
    assert asked("GET", "/authz/forward", **headers).status_code == 401


def test_forward_without_its_headers_is_malformed(world, asked):
    response = asked("GET", "/authz/forward", HTTP_X_ORIGINAL_URI="/api/public/x")
    assert response.status_code == 403
    assert response["X-Auth-Reason"] == "malformed_request"


def test_forward_refuses_a_signature_over_a_body_it_never_saw(world, asked):
    signed = hmac_header(world, "POST", "/api/data/x")
    headers = caddy("/api/data/x", "POST", HTTP_X_ORIGINAL_CONTENT_LENGTH="42", **signed)
    assert asked("GET", "/authz/forward", **headers).status_code == 401
    announced = caddy("/api/data/x", "POST", HTTP_X_ORIGINAL_CONTENT_LENGTH="0", **signed)
    assert asked("GET", "/authz/forward", **announced).status_code == 200


def test_forward_refuses_a_signed_post_whose_body_nobody_announced(world, asked):
    # Traefik passes no body and cannot say whether there was one.
    signed = hmac_header(world, "POST", "/api/data/x")
    assert (
        asked("GET", "/authz/forward", **caddy("/api/data/x", "POST", **signed)).status_code == 401
    )
    signed = hmac_header(world, "PUT", "/api/data/x")
    announced = caddy("/api/data/x", "PUT", HTTP_X_ORIGINAL_CONTENT_LENGTH="0", **signed)
    assert asked("GET", "/authz/forward", **announced).status_code == 200


def ingress(url: str, method: str = "GET", **extra: str) -> dict:
    """What ingress-nginx's auth-url location sends (proxy-facts §3.1)."""
    return {
        "HTTP_X_ORIGINAL_URL": url,
        "HTTP_X_ORIGINAL_METHOD": method,
        "HTTP_X_SENT_FROM": "nginx-ingress-controller",
        "HTTP_X_REAL_IP": "203.0.113.9",
        "HTTP_X_AUTH_REQUEST_REDIRECT": "/api/data/x",
        **extra,
    }


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("https://api.example.com/api/data/x?y=1", 200, "authenticated"),
        ("http://API.example.com:8443/api/data/x", 200, "authenticated"),
        ("https://api.example.com/api/admin/x", 403, "no_permission"),
        ("https://api.example.com/api/public/../admin/x", 403, "malformed_request"),
        ("https://evil.test, api.example.com/api/data/x", 403, "malformed_request"),
        ("/api/data/x", 403, "malformed_request"),
        ("ftp://api.example.com/api/data/x", 403, "malformed_request"),
        ("https://api.example.com", 403, "malformed_request"),
        (
            "https://api.example.com/api/data/x,https://api.example.com/api/public/x",
            403,
            "malformed_request",
        ),
    ],
)
def test_ingress_reads_the_original_url(world, asked, url, status, reason):
    response = asked("GET", "/authz/ingress", **ingress(url, **bearer(world.acme_key)))
    assert response.status_code == status
    assert response["X-Auth-Reason"] == reason
    assert response.content == b"", "ingress-nginx is nginx: no bodies, only 200/401/403"


def test_ingress_ignores_a_client_sent_x_original_uri(world, asked):
    headers = ingress("https://api.example.com/api/admin/x", HTTP_X_ORIGINAL_URI="/api/public/x")
    assert asked("GET", "/authz/ingress", **headers).status_code == 401


def envoy(**extra: str) -> dict:
    """Envoy ext_authz HTTP service (proxy-facts §3.3): original method, path_prefix + path
    (the test's request path), :authority as Host, Content-Length 0 unless
    with_request_body."""
    return {"HTTP_HOST": "api.example.com", **extra}


def test_envoy_decides_on_method_authority_and_prefixed_path(world, asked):
    ok = asked("GET", "/authz/envoy/api/data/x?y=1", **envoy(**bearer(world.acme_key)))
    assert ok.status_code == 200
    assert ok["X-Auth-Client-ID"] == str(world.acme.id)
    denied = asked("DELETE", "/authz/envoy/api/data/x", **envoy(**bearer(world.acme_key)))
    assert denied.status_code == 403
    assert json.loads(denied.content) == {"error": "method_not_allowed"}


def test_envoy_reads_the_raw_target_not_the_decoded_path(world, asked):
    # A server that decodes the path would see /api/public/x/y, a public route.
    response = asked("GET", "/authz/envoy/api/public/x%2Fy", **envoy())
    assert response["X-Auth-Reason"] == "malformed_request"
    signed = hmac_header(world, "PUT", "/api/data/x%41?q=%2F")
    complete = envoy(HTTP_X_ENVOY_AUTH_PARTIAL_BODY="false", **signed)
    response = asked("PUT", "/authz/envoy/api/data/x%41?q=%2F", **complete)
    assert response["X-Auth-Reason"] == "authenticated", "the signature covers the raw target"


def test_envoy_without_a_host_is_refused(world, asked):
    response = asked("GET", "/authz/envoy/api/public/x")
    assert response.status_code == 403


def test_envoy_verifies_hmac_over_a_complete_buffered_body_only(world, asked):
    body = b'{"n": 1}'
    signed = hmac_header(world, "POST", "/api/data/x", body.decode())
    complete = envoy(HTTP_X_ENVOY_AUTH_PARTIAL_BODY="false", **signed)
    assert (
        asked(
            "POST", "/authz/envoy/api/data/x", body, content_type="application/json", **complete
        ).status_code
        == 200
    )
    signed = hmac_header(world, "POST", "/api/data/x", body.decode())
    partial = envoy(HTTP_X_ENVOY_AUTH_PARTIAL_BODY="true", **signed)
    assert (
        asked(
            "POST", "/authz/envoy/api/data/x", body, content_type="application/json", **partial
        ).status_code
        == 401
    )
    signed = hmac_header(world, "POST", "/api/data/x", "")
    unbuffered = envoy(**signed)
    assert asked("POST", "/authz/envoy/api/data/x", **unbuffered).status_code == 401


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/authz/forward", caddy("/api/public/x")),
        ("/authz/ingress", ingress("https://api.example.com/api/public/x")),
        ("/authz/envoy/api/public/x", envoy()),
    ],
)
def test_every_shape_refuses_untrusted_peers(world, asked, path, headers):
    response = asked("GET", path, REMOTE_ADDR="192.0.2.7", **headers)
    assert response.status_code == 403
    assert response["X-Auth-Reason"] == "malformed_request"


def test_envoy_with_a_body_over_the_limit_treats_it_as_unavailable(world, asked, caplog):
    """A body larger than Gatekeeper reads (GATEKEEPER_MAX_BODY_BYTES) is a body it does not
    have: a public route still passes, a signature over it is never checked (issue 9 item 11:
    this used to be a 500)."""
    import logging

    caplog.set_level(logging.INFO, logger="gatekeeper.decisions")
    big = b"x" * (4 * 1024 * 1024 + 1)
    public = asked(
        "GET", "/authz/envoy/api/public/x", big, **envoy(HTTP_X_ENVOY_AUTH_PARTIAL_BODY="false")
    )
    assert (public.status_code, public["X-Auth-Reason"]) == (200, "no_auth_required")
    signed = hmac_header(world, "POST", "/api/data/x", big.decode())
    denied = asked(
        "POST",
        "/authz/envoy/api/data/x",
        big,
        **envoy(HTTP_X_ENVOY_AUTH_PARTIAL_BODY="false", **signed),
    )
    assert (denied.status_code, denied["X-Auth-Reason"]) == (401, "invalid_credentials")
    assert "detail=body_unavailable" in caplog.text


def test_forward_records_the_address_caddy_set_not_the_clients_own(world, decider):
    """Caddy copies a client's X-Real-IP to the decider and sets X-Forwarded-For itself: the
    audit takes the address from the header each proxy's shipped config sets."""
    from audit.models import DecisionRecord
    from authz import runtime

    decider.get(
        "/authz/forward",
        **caddy("/api/data/spoofed", HTTP_X_REAL_IP="6.6.6.6", HTTP_X_FORWARDED_FOR="10.9.8.7"),
    )
    runtime.get_runtime().decisions.flush()
    assert DecisionRecord.objects.get(path="/api/data/spoofed").source_ip == "10.9.8.7"


def test_every_shape_is_served_documented_and_recorded_by_its_name(decider):
    """The registry is the one place a proxy shape is added: the decision server routes by it,
    the audit stores its name, and the README's proxy table names its endpoint."""
    from pathlib import Path

    from authz import shapes

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for shape in shapes.SHAPES:
        path = shape.path + ("/x" if shape.prefix else "")
        assert shapes.for_path(path) is shape
        assert f"`{shape.path}" in readme, f"README's proxy table lacks {shape.path}"
        answer = decider.get(path, REMOTE_ADDR="192.0.2.7")
        assert answer["X-Auth-Reason"] == "malformed_request", "served by the decision server"
    assert shapes.for_path("/authz/other") is None
    assert decider.get("/admin/").status_code == 404, "the decision server serves nothing else"
