from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from core.actor import Actor
from routes.models import Route
from routes.services import create_route

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def existing(pattern: str = "/api/data/*", domain: str = "*", **methods: str) -> Route:
    return create_route(domain=domain, pattern=pattern, methods=methods, actor=Actor.system("t"))


def test_create_route_prints_the_route_and_its_methods():
    out = run(
        "create_route",
        "--pattern=/api/data/*",
        "--service=data-api",
        "--method=GET",
        "--method=post:HMAC",
    )
    route = Route.objects.get()
    assert out.strip() == f"Created route {route.pk} */api/data/* (GET:api_key, POST:hmac)"
    assert (route.domain, route.service_name) == ("*", "data-api")
    event = AuditEvent.objects.get(action="route.created")
    assert event.actor.startswith("cli:")
    assert event.actor.endswith("/create_route")


def test_create_route_warns_that_a_route_without_methods_denies_everything():
    out = run("create_route", "--domain=API.example.com", "--pattern=/api/x")
    assert "api.example.com/api/x (no methods: every request is denied)" in out


def test_create_route_dry_run_changes_nothing():
    out = run("create_route", "--pattern=/api/data/*", "--method=GET:hmac", "--dry-run")
    assert "Would create route */api/data/* (GET:hmac)" in out
    assert "Dry run: nothing was changed." in out
    assert not Route.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pattern=/api/data/"], "pattern: Leave out the trailing '/'"),
        (["--pattern=/api/x", "--domain=api..example.com"], "domain: "),
        (["--pattern=/api/x", "--method=FETCH"], "methods: 'FETCH' is not a method"),
        (["--pattern=/api/x", "--method=GET:root"], "methods: GET: 'root' is not an auth"),
        (["--pattern=/api/x", "--method=GET", "--method=get:hmac"], "GET is given twice"),
        (["--pattern=/api/taken"], "A route with this domain and pattern already exists: route"),
    ],
)
def test_create_route_refuses_bad_input_in_one_line(args, message):
    existing("/api/taken")
    with pytest.raises(CommandError) as caught:
        run("create_route", *args)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert Route.objects.count() == 1


def test_a_method_without_a_name_is_a_usage_error():
    with pytest.raises(CommandError, match="METHOD or METHOD:AUTH"):
        run("create_route", "--pattern=/api/x", "--method=:hmac")


def test_list_routes_prints_a_table():
    existing("/api/data/*", GET="api_key", POST="hmac")
    existing("/api/users/{id}", domain="api.example.com")
    lines = run("list_routes").splitlines()
    assert lines[0].split() == ["ID", "DOMAIN", "PATTERN", "SERVICE", "METHODS"]
    assert lines[1].split()[1:] == ["*", "/api/data/*", "GET:api_key,", "POST:hmac"]
    assert "api.example.com" in lines[2]
    assert "no methods" in lines[2]


def test_list_routes_filters_by_domain_and_speaks_json():
    existing("/api/data/*", GET="api_key")
    route = existing("/api/users/{id}", domain="api.example.com", DELETE="hmac")
    payload = json.loads(run("list_routes", "--domain=API.example.com", "--json"))
    assert payload == [
        {
            "id": route.pk,
            "domain": "api.example.com",
            "pattern": "/api/users/{id}",
            "service": "",
            "description": "",
            "methods": {"DELETE": "hmac"},
            "shadowed_by": [],
        }
    ]


def test_list_routes_says_when_there_are_none():
    assert run("list_routes").strip() == "No routes."
    assert json.loads(run("list_routes", "--json")) == []


def test_list_routes_refuses_a_bad_domain():
    with pytest.raises(CommandError, match="--domain: "):
        run("list_routes", "--domain=a..b")


@pytest.mark.parametrize(
    "args", [["--pattern=/api/x"], ["--domain=*", "--pattern=/api/x"], ["--id={id}"]]
)
def test_delete_route_by_id_or_by_name(args):
    route = existing("/api/x", GET="hmac")
    out = run("delete_route", *(arg.format(id=route.pk) for arg in args))
    assert out.strip() == f"Deleted route {route.pk} */api/x"
    assert not Route.objects.exists()
    assert AuditEvent.objects.filter(action="route.deleted").count() == 1


def test_delete_route_dry_run_keeps_the_route():
    route = existing("/api/x")
    out = run("delete_route", "--pattern=/api/x", "--dry-run")
    assert f"Would delete route {route.pk} */api/x" in out
    assert Route.objects.filter(pk=route.pk).exists()
    assert not AuditEvent.objects.filter(action="route.deleted").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pattern=/api/x"], "no route '*/api/x'"),
        (
            ["--domain=api.example.com", "--pattern=/api/data/*"],
            "no route 'api.example.com/api/data/*'",
        ),
        (["--id=999999"], "no route with id 999999"),
        ([], "name the route with --id, or with --pattern (and --domain)"),
        (
            ["--id=1", "--pattern=/api/x"],
            "name the route with --id, or with --pattern (and --domain)",
        ),
    ],
)
def test_delete_route_refuses_an_unknown_route(args, message):
    existing("/api/data/*")
    with pytest.raises(CommandError) as caught:
        run("delete_route", *args)
    assert str(caught.value) == message
    assert Route.objects.count() == 1
