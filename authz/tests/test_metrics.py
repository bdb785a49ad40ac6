"""Gatekeeper's metrics through /authz and /metrics, in one process (the test runner's).

Counters live for the whole test session, so every test compares before and after.
"""

from __future__ import annotations

import time

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from authz import asgi, metrics
from authz.reasons import Reason
from authz.refresh import SnapshotHolder, SnapshotUnavailable
from authz.tests.conftest import ACTOR
from authz.tests.tcp_proxy import free_port
from authz.tests.wire import bearer, hmac_header
from core.tests.secret_scan import scan_text
from permissions import services as permissions
from routes.models import Auth

UNTRUSTED = "203.0.113.9"
TOKEN = "scrape-token-0123456789"
SHAPES = ("nginx", "forward", "ingress", "envoy")
# Every label a gatekeeper_* series may carry, and what its values may be.
LABELS = {
    "reason": {r.value for r in Reason} | {metrics.INTERNAL_ERROR},
    "shape": set(SHAPES),
    "auth": {a.value for a in Auth} | {"none"},
    "outcome": {"allow", "deny"},
    "operation": {o.value for o in metrics.CacheOperation},
}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def total(name: str) -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == name
    )


def scrape(decider, **extra: str) -> str:
    response = decider.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    scan_text(body, "a /metrics page")
    return body


CASES = [
    # (id, method, uri, headers(world), reason, auth)
    ("api-key", "GET", "/api/data/x", lambda w: bearer(w.acme_key), "authenticated", "api_key"),
    ("public", "GET", "/api/public/x", lambda w: {}, "no_auth_required", "none"),
    ("no-route", "GET", "/elsewhere", lambda w: {}, "no_route_match", "none"),
    ("not-configured", "PATCH", "/api/data/x", lambda w: {}, "method_not_configured", "none"),
    ("no-key", "GET", "/api/data/x", lambda w: {}, "invalid_credentials", "api_key"),
    (
        "stranger",
        "GET",
        "/api/data/x",
        lambda w: bearer(w.stranger_key),
        "no_permission",
        "api_key",
    ),
    (
        "not-granted",
        "DELETE",
        "/api/data/x",
        lambda w: bearer(w.acme_key),
        "method_not_allowed",
        "api_key",
    ),
    (
        "hmac",
        "POST",
        "/api/data/x",
        lambda w: hmac_header(w, "POST", "/api/data/x"),
        "authenticated",
        "hmac",
    ),
    ("any", "PUT", "/api/data/x", lambda w: bearer(w.acme_key), "authenticated", "any"),
]


@pytest.mark.parametrize(
    ("method", "uri", "headers", "reason", "auth"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_decision_is_counted_once_by_reason_shape_and_auth(
    world, ask, method, uri, headers, reason, auth
):
    labels = {"reason": reason, "shape": "nginx", "auth": auth}
    before, before_all = (
        value("gatekeeper_decisions_total", **labels),
        total("gatekeeper_decisions_total"),
    )
    assert ask(method, uri, **headers(world))["X-Auth-Reason"] == reason
    assert value("gatekeeper_decisions_total", **labels) == before + 1
    assert total("gatekeeper_decisions_total") == before_all + 1


def _envoy(decider, uri: str):
    return decider.get(f"/authz/envoy{uri}", HTTP_HOST="api.example.com")


ASK_BY_SHAPE = {
    "nginx": lambda decider, uri: decider.get(
        "/authz",
        HTTP_X_ORIGINAL_METHOD="GET",
        HTTP_X_ORIGINAL_URI=uri,
        HTTP_X_ORIGINAL_HOST="api.example.com",
    ),
    "forward": lambda decider, uri: decider.get(
        "/authz/forward",
        HTTP_X_FORWARDED_METHOD="GET",
        HTTP_X_FORWARDED_URI=uri,
        HTTP_X_FORWARDED_HOST="api.example.com",
    ),
    "ingress": lambda decider, uri: decider.get(
        "/authz/ingress",
        HTTP_X_ORIGINAL_METHOD="GET",
        HTTP_X_ORIGINAL_URL=f"https://api.example.com{uri}",
    ),
    "envoy": _envoy,
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_proxy_endpoint_counts_and_times_under_its_own_shape(world, decider, shape):
    labels = {"reason": "no_auth_required", "shape": shape, "auth": "none"}
    before = value("gatekeeper_decisions_total", **labels)
    count = value("gatekeeper_decision_seconds_count", shape=shape)
    seconds = value("gatekeeper_decision_seconds_sum", shape=shape)
    response = ASK_BY_SHAPE[shape](decider, "/api/public/x")
    assert response["X-Auth-Reason"] == "no_auth_required"
    assert value("gatekeeper_decisions_total", **labels) == before + 1
    assert value("gatekeeper_decision_seconds_count", shape=shape) == count + 1
    assert 0 < value("gatekeeper_decision_seconds_sum", shape=shape) - seconds < 1
    assert value("gatekeeper_decision_seconds_bucket", shape=shape, le="1.0") == count + 1


def test_decisions_on_a_route_are_counted_by_route_id_and_outcome(world, ask):
    route = str(world.data.id)
    allowed = value("gatekeeper_decisions_by_route_total", route_id=route, outcome="allow")
    denied = value("gatekeeper_decisions_by_route_total", route_id=route, outcome="deny")
    ask("GET", "/api/data/x", **bearer(world.acme_key))
    ask("GET", "/api/data/x", **bearer(world.stranger_key))
    ask("GET", "/api/data/x")
    assert value("gatekeeper_decisions_by_route_total", route_id=route, outcome="allow") == (
        allowed + 1
    )
    assert value("gatekeeper_decisions_by_route_total", route_id=route, outcome="deny") == (
        denied + 2
    )
    routed = total("gatekeeper_decisions_by_route_total")
    ask("GET", "/nowhere")
    assert total("gatekeeper_decisions_by_route_total") == routed, "no route, no route count"


def test_a_decision_that_fails_inside_counts_as_an_internal_error(world, ask, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine fault")

    monkeypatch.setattr(asgi, "decide", broken)
    labels = {"reason": "internal_error", "shape": "nginx", "auth": "none"}
    before = value("gatekeeper_decisions_total", **labels)
    assert ask("GET", "/api/data/x", **bearer(world.acme_key)).status_code == 500
    assert value("gatekeeper_decisions_total", **labels) == before + 1


ACCESS = [
    # (id, peer, allowed networks, token setting, Authorization, status)
    ("loopback", "127.0.0.1", None, "", None, 200),
    ("loopback-v6", "::1", None, "", None, 200),
    ("mapped-loopback", "::ffff:127.0.0.1", None, "", None, 200),
    ("stranger", UNTRUSTED, None, "", None, 403),
    ("not-an-address", "unix:/run/gk.sock", None, "", None, 403),
    ("bearer-without-a-token-set", UNTRUSTED, None, "", "Bearer ", 403),
    ("token", UNTRUSTED, None, TOKEN, f"Bearer {TOKEN}", 200),
    ("token-lower-scheme", UNTRUSTED, None, TOKEN, f"bearer {TOKEN}", 200),
    ("wrong-token", UNTRUSTED, None, TOKEN, "Bearer wrong", 403),
    ("token-prefix", UNTRUSTED, None, TOKEN, f"Bearer {TOKEN[:-1]}", 403),
    ("token-longer", UNTRUSTED, None, TOKEN, f"Bearer {TOKEN}x", 403),
    ("token-other-scheme", UNTRUSTED, None, TOKEN, f"Basic {TOKEN}", 403),
    ("no-token-sent", UNTRUSTED, None, TOKEN, None, 403),
    ("allowed-network", "10.1.2.3", ["10.0.0.0/8"], "", None, 200),
    ("loopback-not-allowed", "127.0.0.1", ["10.0.0.0/8"], "", None, 403),
    ("token-only", "127.0.0.1", [], TOKEN, f"Bearer {TOKEN}", 200),
]


@pytest.mark.parametrize(
    ("peer", "networks", "token", "authorization", "status"),
    [case[1:] for case in ACCESS],
    ids=[case[0] for case in ACCESS],
)
def test_metrics_are_served_to_allowed_networks_or_the_token_only(
    decider, client, settings, peer, networks, token, authorization, status
):
    if networks is not None:
        settings.GATEKEEPER_METRICS_ALLOWED = networks
    settings.GATEKEEPER_METRICS_TOKEN = token
    extra = {"REMOTE_ADDR": peer}
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    # The same rule on both servers: the decision server's and the admin's /metrics.
    for response in (decider.get("/metrics", **extra), client.get("/metrics", **extra)):
        assert response.status_code == status
        scan_text(response.content.decode(), "a /metrics page")
        if status == 200:
            assert b"# TYPE gatekeeper_decisions_total counter" in response.content
        else:
            assert b"gatekeeper" not in response.content


def test_django_prometheus_counts_the_admin_but_never_a_decision(world, ask, decider, client):
    name = "django_http_requests_before_middlewares_total"
    before = value(name)
    ask("GET", "/api/public/x")
    metrics_response = decider.get("/metrics")
    scan_text(metrics_response.content.decode(), "a /metrics page")
    assert value(name) == before, "the decision server runs no Django middleware"
    assert not metrics_response.has_header("Set-Cookie")
    client.get("/admin/login/")
    assert value(name) == before + 1


def test_labels_are_bounded_and_never_hold_a_path_host_or_key(world, ask, decider):
    unknown = "gk_unknown0_" + "Z" * 32
    secrets = [world.acme_key, world.stranger_key, world.acme_secret, unknown, world.expired_key]
    ask("GET", "/api/data/x", **bearer(world.acme_key))
    ask("GET", f"/api/data/secret-path?api_key={world.acme_key}")
    ask("GET", f"/api/data/x?api_key={unknown}")
    ask("GET", "/api/admin/x", HTTP_X_API_KEY=world.stranger_key)
    ask("GET", "/api/data/x", **bearer(world.expired_key))
    ask("POST", "/api/data/x", **hmac_header(world, "POST", "/api/data/x", secret="wrong"))
    ask("GET", "/unrouted/path", host="odd-host.example.org")
    _envoy(decider, f"/api/data/x?api_key={world.acme_key}")
    body = scrape(decider)

    for secret in secrets:
        assert secret not in body
    for fragment in ("/api/", "secret-path", "unrouted", "odd-host", "api_key="):
        assert fragment not in body
    route_ids = {str(route.id) for route in (world.public, world.data, world.admin)}
    families = [f for f in text_string_to_metric_families(body) if f.name.startswith("gatekeeper")]
    assert families
    for family in families:
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                if label == "le":
                    float(label_value)
                elif label == "route_id":
                    # Earlier tests' routes were rolled back; their ids are numbers like these.
                    assert label_value.isdigit(), (family.name, label_value)
                else:
                    assert label_value in LABELS[label], (family.name, label, label_value)
    assert route_ids & {
        s.labels["route_id"] for f in families for s in f.samples if "route_id" in s.labels
    }


def test_snapshot_reloads_and_age_follow_the_decision_path(world, ask, decider):
    reloads = value("gatekeeper_snapshot_reloads_total")
    ask("GET", "/api/public/x")
    assert value("gatekeeper_snapshot_reloads_total") == reloads + 1
    assert value("gatekeeper_snapshot_rebuild_failing") == 0
    built = value("gatekeeper_snapshot_built_timestamp_seconds")
    assert time.time() - 5 < built <= time.time()
    families = {f.name: f for f in text_string_to_metric_families(scrape(decider))}
    (age,) = families["gatekeeper_snapshot_age_seconds"].samples
    assert 0 <= age.value < 5


def test_a_snapshot_that_cannot_be_rebuilt_is_reported_until_one_is(world, ask):
    def database_down(version: str | None) -> object:
        raise ConnectionError("database unreachable")

    holder = SnapshotHolder(
        current_version=lambda: "1",
        build=database_down,
        on_failure=metrics.snapshot_rebuild_failed,
    )
    holder.refresh()
    with pytest.raises(SnapshotUnavailable):
        holder.get()
    assert value("gatekeeper_snapshot_rebuild_failing") == 1
    ask("GET", "/api/public/x")
    assert value("gatekeeper_snapshot_rebuild_failing") == 0


def test_cache_errors_are_counted_by_operation(world, ask):
    permissions.set_rate_limit(world.acme, limit=100, window="minute", actor=ACTOR)
    # A real refused connection: nothing listens on a port just freed.
    dead = f"redis://127.0.0.1:{free_port()}/0"
    before = {
        op: value("gatekeeper_cache_errors_total", operation=op) for op in LABELS["operation"]
    }
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "KEY_PREFIX": "gk-dead",
        }
    }
    with override_settings(CACHES=caches, REDIS_URL=dead):
        limited = ask("GET", "/api/data/x", **bearer(world.acme_key))
        signed = ask("POST", "/api/data/x", **hmac_header(world, "POST", "/api/data/x"))
    assert limited["X-Auth-Reason"] == "authenticated", "rate limits fail open by default"
    assert signed.status_code == 500, "HMAC fails closed without the replay store"
    after = {op: value("gatekeeper_cache_errors_total", operation=op) for op in before}
    assert after["rate_limit"] == before["rate_limit"] + 1
    assert after["nonce"] == before["nonce"] + 1


def test_only_known_cache_operations_become_labels():
    with pytest.raises(ValueError, match="redis"):
        metrics.count_cache_error("redis")
