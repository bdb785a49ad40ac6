from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from clients.tests.factories import ClientFactory
from permissions.models import Permission, RateLimit
from permissions.tests.factories import PermissionFactory, RateLimitFactory, route_with_methods

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return ClientFactory(name="acme")


@pytest.fixture
def data_route():
    return route_with_methods("GET", "POST", pattern="/api/data/*")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_grant_prints_one_line_and_audits_the_operator(acme, data_route):
    out = run("grant", "--client", "ACME", "--pattern", "/api/data/*", "--methods", "post,GET")

    assert out == "Granted acme GET, POST on */api/data/* (all it holds there: GET, POST)\n"
    assert Permission.objects.get().methods == "GET,POST"
    assert AuditEvent.objects.get(action="permission.granted").actor.startswith("cli:")


def test_grant_adds_to_what_the_client_holds(acme, data_route):
    run("grant", "--client", "acme", "--pattern", "/api/data/*", "--methods", "GET")
    out = run("grant", "--client", "acme", "--pattern", "/api/data/*", "--methods", "POST")

    assert out == "Granted acme POST on */api/data/* (all it holds there: GET, POST)\n"
    assert Permission.objects.get().methods == "GET,POST"


def test_grant_exactly_replaces_what_the_client_holds(acme, data_route):
    run("grant", "--client", "acme", "--pattern", "/api/data/*", "--methods", "GET,POST")
    out = run(
        "grant", "--client", "acme", "--pattern", "/api/data/*", "--methods", "POST", "--exactly"
    )

    assert out == "Granted acme exactly POST on */api/data/* (all it holds there: POST)\n"
    assert Permission.objects.get().methods == "POST"


def test_grant_finds_the_client_by_id_and_the_route_by_domain(acme):
    route = route_with_methods("GET", domain="api.example.com", pattern="/v1/*")

    run(
        "grant",
        "--client",
        str(acme.pk),
        "--domain",
        "API.example.com",
        "--pattern",
        "/v1/*",
        "--methods",
        "GET",
    )

    assert Permission.objects.get().route == route


def test_grant_dry_run_changes_nothing(acme, data_route):
    out = run(
        "grant", "--client", "acme", "--pattern", "/api/data/*", "--methods", "GET", "--dry-run"
    )

    assert "Would grant acme GET on */api/data/*" in out
    assert "Granted" not in out
    assert "Dry run" in out
    assert not Permission.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client", "nobody", "--pattern", "/api/data/*", "--methods", "GET"], "nobody"),
        (["--client", "acme", "--pattern", "/api/none/*", "--methods", "GET"], "/api/none/*"),
        (["--client", "acme", "--pattern", "/api/data/*", "--methods", "FETCH"], "'FETCH'"),
        (
            ["--client", "acme", "--pattern", "/api/data/*", "--methods", "GET,PATCH"],
            "methods: PATCH is not configured on route */api/data/*",
        ),
    ],
)
def test_grant_errors_are_one_line(acme, data_route, args, message):
    with pytest.raises(CommandError) as excinfo:
        run("grant", *args)

    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert not Permission.objects.exists()


def test_revoke_some_methods_then_all(acme, data_route):
    PermissionFactory(client=acme, route=data_route, methods="GET,POST")

    out = run("revoke", "--client", "acme", "--pattern", "/api/data/*", "--methods", "POST")
    assert out == "Revoked POST of acme on */api/data/* (GET left)\n"
    assert Permission.objects.get().methods == "GET"

    out = run("revoke", "--client", "acme", "--pattern", "/api/data/*")
    assert out == "Revoked every method of acme on */api/data/*\n"
    assert not Permission.objects.exists()


def test_revoke_dry_run_changes_nothing(acme, data_route):
    PermissionFactory(client=acme, route=data_route, methods="GET,POST")

    out = run("revoke", "--client", "acme", "--pattern", "/api/data/*", "--dry-run")

    assert "Dry run" in out
    assert Permission.objects.get().methods == "GET,POST"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client", "nobody", "--pattern", "/api/data/*"], "nobody"),
        (["--client", "acme", "--pattern", "/api/none/*"], "/api/none/*"),
        (["--client", "other", "--pattern", "/api/data/*"], "other has no permission"),
        (["--client", "acme", "--pattern", "/api/data/*", "--methods", "FETCH"], "'FETCH'"),
        (["--client", "acme", "--pattern", "/api/data/*", "--methods", "POST"], "not granted"),
    ],
)
def test_revoke_errors_are_one_line(acme, data_route, args, message):
    ClientFactory(name="other")
    PermissionFactory(client=acme, route=data_route, methods="GET")

    with pytest.raises(CommandError) as excinfo:
        run("revoke", *args)

    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert Permission.objects.get().methods == "GET"


def test_list_permissions_as_text_and_json(acme, data_route):
    other = ClientFactory(name="other")
    PermissionFactory(client=acme, route=data_route, methods="GET,POST")
    PermissionFactory(client=other, route=route_with_methods("GET", pattern="/api/misc"))

    assert run("list_permissions") == ("acme  */api/data/*  GET, POST\nother  */api/misc  GET\n")
    assert json.loads(run("list_permissions", "--client", "acme", "--json")) == [
        {
            "client": "acme",
            "client_id": str(acme.pk),
            "domain": "*",
            "pattern": "/api/data/*",
            "methods": ["GET", "POST"],
        }
    ]
    only_misc = json.loads(run("list_permissions", "--route-pattern", "/api/misc", "--json"))
    assert [p["client"] for p in only_misc] == ["other"]


def test_list_permissions_says_when_there_are_none():
    assert run("list_permissions") == "No permissions.\n"
    assert json.loads(run("list_permissions", "--json")) == []


def test_list_permissions_of_an_unknown_client_is_an_error():
    with pytest.raises(CommandError, match="nobody"):
        run("list_permissions", "--client", "nobody")


def test_set_rate_limit_creates_updates_and_removes(acme, data_route):
    out = run("set_rate_limit", "--client", "acme", "--limit", "100", "--window", "minute")
    assert out == "Set acme: 100/minute on all routes\n"

    run("set_rate_limit", "--client", "acme", "--limit", "50", "--window", "minute")
    assert RateLimit.objects.get().limit == 50

    out = run(
        "set_rate_limit",
        *("--client", "acme", "--limit", "5", "--window", "second", "--pattern", "/api/data/*"),
    )
    assert out == "Set acme: 5/second on */api/data/*\n"

    out = run("set_rate_limit", "--client", "acme", "--window", "minute", "--remove")
    assert out == "Removed acme: 50/minute on all routes\n"
    assert list(RateLimit.objects.values_list("window", flat=True)) == ["second"]


def test_set_rate_limit_dry_run_changes_nothing(acme):
    RateLimitFactory(client=acme, limit=10, window="hour")

    run("set_rate_limit", "--client", "acme", "--limit", "99", "--window", "hour", "--dry-run")
    run("set_rate_limit", "--client", "acme", "--window", "hour", "--remove", "--dry-run")

    assert RateLimit.objects.get().limit == 10
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client", "nobody", "--limit", "1", "--window", "minute"], "nobody"),
        (["--client", "acme", "--limit", "0", "--window", "minute"], "limit: "),
        (["--client", "acme", "--limit", "1", "--window", "week"], "'week' is not a window"),
        (
            ["--client", "acme", "--limit", "1", "--window", "minute", "--pattern", "/api/x"],
            "/api/x",
        ),
        (["--client", "acme", "--window", "minute"], "either --limit or --remove"),
        (["--client", "acme", "--limit", "1", "--window", "day", "--remove"], "either"),
        (["--client", "acme", "--window", "day", "--remove"], "no per-day limit"),
    ],
)
def test_set_rate_limit_errors_are_one_line(acme, args, message):
    with pytest.raises(CommandError) as excinfo:
        run("set_rate_limit", *args)

    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert not RateLimit.objects.exists()
