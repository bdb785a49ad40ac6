"""`explain_request` walks one request through the same engine and never prints a secret."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from authz.tests.conftest import ACTOR
from routes import services as routes


def explain(*args: str) -> str:
    out = StringIO()
    call_command("explain_request", *args, stdout=out)
    return out.getvalue()


def test_an_allowed_request_is_explained_step_by_step(world):
    out = explain(
        "--method",
        "GET",
        "--host",
        "API.example.com:443",
        "--uri",
        "/api/data/x?y=1",
        "--header",
        f"Authorization: Bearer {world.acme_key}",
    )
    assert "host api.example.com  path /api/data/x" in out
    assert f"route         {world.data.id} */api/data/*" in out
    assert "method rule   GET: api_key" in out
    assert "client        acme" in out
    assert "permission    GET, POST, PUT" in out
    assert "200 authenticated" in out
    assert world.acme_key not in out


def test_a_denial_names_its_detail(world):
    out = explain(
        "--host", "a.test", "--uri", "/api/data/x", "--header", "X-API-Key: gk_nope0000_x"
    )
    assert "401 invalid_credentials (unknown_credential)" in out
    assert "gk_nope0000_x" not in out


def test_shadowing_by_a_more_specific_domain_is_shown(world):
    specific = routes.create_route(
        domain="api.example.com", pattern="/api/*", methods={"GET": "public"}, actor=ACTOR
    )
    out = explain("--host", "api.example.com", "--uri", "/api/data/x")
    assert f"route {specific.id} api.example.com/api/*" in out
    assert f"shadowed by route {specific.id}" in out
    assert "200 no_auth_required" in out


def test_a_refused_path_says_why(world):
    out = explain("--host", "a.test", "--uri", "/api/public/../admin")
    assert "refused" in out
    assert "403 malformed_request (ambiguous_path)" in out


@pytest.mark.parametrize("header", ["Cookie: a=b", "no colon here"])
def test_bad_headers_are_refused(world, header):
    with pytest.raises(CommandError):
        explain("--host", "a.test", "--uri", "/", "--header", header)
