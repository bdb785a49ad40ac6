"""`explain_request` walks one request through the same engine and never prints a secret."""

from __future__ import annotations

import string
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from authz.build import build_snapshot
from authz.engine import RequestFacts
from authz.explain import Outcome, explain_as
from authz.explain import explain as explain_request
from authz.management.commands.explain_request import parse_headers
from authz.tests.conftest import ACTOR
from authz.tests.wire import hmac_header
from permissions import services as permissions
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


# --- keys off the command line (issue 9, item 6) ---------------------------------------------


def test_headers_can_come_from_a_file_so_the_key_stays_out_of_ps(world, tmp_path):
    headers = tmp_path / "headers"
    headers.write_text(f"# acme's key\nAuthorization: Bearer {world.acme_key}\n")
    out = explain("--host", "a.test", "--uri", "/api/data/x", "--headers-file", str(headers))
    assert "200 authenticated" in out
    assert world.acme_key not in out


def test_headers_can_come_from_standard_input(world, monkeypatch):
    monkeypatch.setattr("sys.stdin", StringIO(f"X-API-Key: {world.acme_key}\n"))
    out = explain("--host", "a.test", "--uri", "/api/data/x", "--headers-file", "-")
    assert "200 authenticated" in out
    assert world.acme_key not in out


def test_help_says_how_to_keep_a_key_off_the_command_line(capsys):
    with pytest.raises(SystemExit):
        call_command("explain_request", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "--headers-file" in text
    assert "standard input" in text


def test_an_unreadable_headers_file_is_one_line_error(world, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        explain("--host", "a.test", "--uri", "/", "--headers-file", str(tmp_path / "missing"))


@pytest.mark.parametrize(
    "template",
    ["Bearer {key}", "{key}", "Cookie: {key}", "{key}: x", " : {key}"],
)
def test_a_malformed_header_never_echoes_its_value(world, template):
    line = template.format(key=world.acme_key)
    with pytest.raises(CommandError) as raised:
        explain("--host", "a.test", "--uri", "/", "--header", line)
    assert world.acme_key not in str(raised.value)
    assert world.acme_key[3:20] not in str(raised.value)


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=12, max_size=60),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_no_refused_header_echoes_a_key_in_it(key, before, after):
    line = f"{before}{key}{after}"
    try:
        parse_headers([line])
        error = ""
    except CommandError as exc:
        error = str(exc)
    assert key not in error


# --- the pure function the command, the access tester and the API share ------------------------


def facts(method="GET", host="api.example.com", target="/api/data/x", **credentials):
    return RequestFacts(method=method, host=host, target=target, **credentials)


def test_explain_names_every_route_that_matches_and_why_it_lost(world):
    broad = routes.create_route(
        domain="*", pattern="/api/*", methods={"GET": "public"}, actor=ACTOR
    )
    specific = routes.create_route(
        domain="api.example.com", pattern="/api/data/{id}", methods={"GET": "public"}, actor=ACTOR
    )
    result = explain_request(facts(), build_snapshot(None), time.time())
    outcomes = [(c.domain, c.route.id, c.outcome) for c in result.candidates]
    assert outcomes == [
        ("api.example.com", specific.id, Outcome.CHOSEN),
        ("*", world.data.id, Outcome.SHADOWED_BY_DOMAIN),
        ("*", broad.id, Outcome.OUTRANKED),
    ]
    assert result.domains == ("api.example.com", "*")
    assert result.route.id == specific.id
    assert (result.status, result.reason) == (200, "no_auth_required")


def test_explain_shows_client_permission_and_the_limit_that_would_apply(world):
    permissions.set_rate_limit(world.acme, limit=1, window="minute", actor=ACTOR)
    snap = build_snapshot(None)
    ask = facts(authorization=f"Bearer {world.acme_key}")
    for _ in range(3):  # never counted: the limit of 1 is never used up
        result = explain_request(ask, snap, time.time())
        assert result.reason == "authenticated"
    assert result.client.name == "acme"
    assert result.permission == ("GET", "POST", "PUT")
    assert result.method_rule == "api_key"
    assert [(lim.limit, lim.window) for lim in result.rate_limits] == [(1, 60)]
    assert world.acme_key not in repr(result)


def test_explain_claims_no_nonce(world, ask):
    signed = hmac_header(world, "POST", "/api/data/x")
    authorization = signed["HTTP_AUTHORIZATION"]
    result = explain_request(
        facts(method="POST", authorization=authorization), build_snapshot(None), time.time()
    )
    assert result.reason == "authenticated"
    # The same signed request is still fresh for the real decision.
    response = ask("POST", "/api/data/x", **signed)
    assert response["X-Auth-Reason"] == "authenticated"


def test_explain_says_why_a_request_was_refused(world):
    result = explain_request(facts(target="/api/data/../admin"), build_snapshot(None), time.time())
    assert result.path is None
    assert result.candidates == ()
    assert "ambiguous_path" in result.refused
    assert (result.reason, result.detail) == ("malformed_request", "ambiguous_path")


# --- "as client X" and shadowing between routes -----------------------------------------------


@pytest.mark.parametrize(
    ("method", "client", "reason", "assumed"),
    [
        ("GET", "acme", "authenticated", "as acme, with a valid API key"),
        ("POST", "acme", "authenticated", "as acme, with a valid HMAC signature"),
        ("DELETE", "acme", "method_not_allowed", "as acme, with a valid API key"),
        ("GET", "stranger", "no_permission", "as stranger, with a valid API key"),
        ("POST", "stranger", "invalid_credentials", "stranger holds no live HMAC secret"),
        ("GET", "sleepy", "client_suspended", "as sleepy, with a valid API key"),
    ],
)
def test_explain_as_a_client_stands_in_its_credential(world, method, client, reason, assumed):
    snap = build_snapshot(None)
    (client_id,) = [c.id for c in snap.clients.values() if c.name == client]
    result = explain_as(client_id, facts(method=method), snap, time.time())
    assert (result.reason, result.assumed) == (reason, assumed)
    # The stand-in exists only in the explanation's own copy of the snapshot.
    assert all(key.credential_id != 0 for key in snap.api_keys.values())
