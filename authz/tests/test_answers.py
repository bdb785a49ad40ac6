"""What the proxy may do with an answer: cache it (to the end of the current second) or not."""

from __future__ import annotations

import time

import pytest

from authz.tests.conftest import ACTOR
from authz.tests.wire import bearer, hmac_header


@pytest.mark.parametrize(
    ("method", "uri", "headers", "cacheable"),
    [
        ("GET", "/api/public/x", lambda w: {}, True),
        ("GET", "/api/data/x", lambda w: bearer(w.acme_key), True),
        ("GET", "/api/data/x", lambda w: bearer("gk_nothere0_" + "x" * 32), True),
        ("GET", "/nowhere", lambda w: {}, True),
        ("GET", "/api/data/x", lambda w: bearer(w.suspended_key), True),
        ("POST", "/api/data/x", lambda w: hmac_header(w, "POST", "/api/data/x"), False),
        (
            "POST",
            "/api/data/x",
            lambda w: hmac_header(w, "POST", "/api/data/x", secret="no"),
            False,
        ),
        ("GET", "/api/../x", lambda w: {}, False),
    ],
    ids=["public", "key", "unknown-key", "no-route", "suspended", "hmac", "bad-hmac", "malformed"],
)
def test_only_answers_that_depend_on_the_request_alone_may_be_cached(
    world, ask, method, uri, headers, cacheable
):
    """X-Accel-Expires: "@<this second>" lets nginx keep the answer to the end of the second;
    "0" forbids it (HMAC: a nonce is single-use; malformed: not worth it)."""
    expires = ask(method, uri, **headers(world))["X-Accel-Expires"]
    assert expires.startswith("@") is cacheable
    if cacheable:
        assert abs(int(expires[1:]) - time.time()) <= 1
    else:
        assert expires == "0"


def test_a_rate_limited_client_is_never_cached(world, ask):
    from permissions import services as permissions

    permissions.set_rate_limit(world.acme, limit=100, window="hour", actor=ACTOR)
    assert ask("GET", "/api/data/x", **bearer(world.acme_key))["X-Accel-Expires"] == "0"
