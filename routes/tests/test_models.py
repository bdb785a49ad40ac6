"""The database, not only the forms, refuses bad routes (style rule 12). Rows are written raw
with objects.create, past every Python check; each test names the constraint that must fire.
SQLite and PostgreSQL word the error differently but both name the constraint."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from routes.models import Route, RouteMethod
from routes.patterns import PatternError, parse_pattern
from routes.tests.factories import RouteFactory, RouteMethodFactory

pytestmark = pytest.mark.django_db


def refused_by(constraint: str, create, **fields) -> None:
    # The savepoint keeps PostgreSQL's transaction usable after the error.
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        create(**fields)
    assert constraint in str(caught.value) or UNNAMED.get(constraint, constraint) in str(
        caught.value
    )


# SQLite names a UNIQUE(column, column) constraint by its columns, not by its name.
UNNAMED = {
    "routes_routemethod_route_method_uniq": (
        "routes_routemethod.route_id, routes_routemethod.method"
    ),
}


@pytest.mark.parametrize(
    "domain",
    [
        "API.example.com",
        "api.example.com.",
        ".example.com",
        "api..example.com",
        "*example.com",
        "api.*.com",
        "**",
        "",
        "api.example.com:443",
        "api.example.com\n",
        "bücher.example",
        "[fe80::1%eth0]",
    ],
)
def test_the_database_refuses_a_malformed_domain(domain):
    refused_by("routes_route_domain_format", Route.objects.create, domain=domain, pattern="/api/x")


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "api/x",
        "/api/x/",
        "/api//x",
        "/api/../x",
        "/api/.",
        "/api/x*",
        "/api/*/x",
        "/api/x;y",
        "/api/x\\y",
        "/api/x y",
        "/api/%2f",
        "/api/%zz",
        "/api/{id",
        "/api/{1}",
        "/api/x\n",
        "/api/café",
    ],
)
def test_the_database_refuses_a_malformed_pattern(pattern):
    refused_by("routes_route_pattern_format", Route.objects.create, domain="*", pattern=pattern)


@pytest.mark.parametrize(
    ("domain", "pattern"),
    [
        ("*", "/"),
        ("*", "/*"),
        ("*.example.com", "/api/users/{id}/orders"),
        ("10.0.0.1", "/api/caf%C3%A9/*"),
        ("[2001:db8::1]", "/api/x..y/~z"),
    ],
)
def test_the_database_accepts_well_formed_routes(domain, pattern):
    route = Route.objects.create(domain=domain, pattern=pattern)
    assert Route.objects.get(pk=route.pk).pattern == pattern


def test_an_upper_case_duplicate_is_refused_by_the_domain_format_first():
    Route.objects.create(domain="api.example.com", pattern="/api/x")
    refused_by(
        "routes_route_domain_format",
        Route.objects.create,
        domain="API.example.com",
        pattern="/api/x",
    )


def test_a_route_exists_once_per_domain_and_pattern():
    # An exact duplicate breaks both unique constraints; which one the database names first
    # differs (PostgreSQL names the pattern's, SQLite the canonical pattern's).
    Route.objects.create(domain="api.example.com", pattern="/api/x")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Route.objects.create(domain="api.example.com", pattern="/api/x")
    assert any(
        name in str(caught.value)
        for name in (
            "routes_route_domain_pattern_uniq",
            "routes_route_domain_canonical_pattern_uniq",
        )
    )


def test_the_same_pattern_may_exist_on_different_domains():
    Route.objects.create(domain="api.example.com", pattern="/api/x")
    Route.objects.create(domain="*", pattern="/api/x")
    assert Route.objects.filter(pattern="/api/x").count() == 2


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"method": "get"}, "routes_routemethod_method_valid"),
        ({"method": "TRACE"}, "routes_routemethod_method_valid"),
        ({"method": ""}, "routes_routemethod_method_valid"),
        ({"auth": "API_KEY"}, "routes_routemethod_auth_valid"),
        ({"auth": "none"}, "routes_routemethod_auth_valid"),
        ({"auth": ""}, "routes_routemethod_auth_valid"),
    ],
)
def test_the_database_refuses_an_unknown_method_or_auth(fields, constraint):
    route = RouteFactory()
    refused_by(
        constraint, RouteMethod.objects.create, **{"route": route, "method": "GET", **fields}
    )


def test_a_method_is_configured_once_per_route():
    rule = RouteMethodFactory(method="GET")
    refused_by(
        "routes_routemethod_route_method_uniq",
        RouteMethod.objects.create,
        route=rule.route,
        method="GET",
        auth="hmac",
    )
    RouteMethodFactory(route=rule.route, method="POST")
    assert rule.route.method_rules() == {"GET": "api_key", "POST": "api_key"}


def test_method_rules_come_in_canonical_order():
    route = RouteFactory()
    for method in ("OPTIONS", "POST", "GET", "DELETE"):
        RouteMethodFactory(route=route, method=method)
    assert list(route.method_rules()) == ["GET", "POST", "DELETE", "OPTIONS"]


def test_clean_normalises_the_domain_and_names_the_bad_fields():
    route = Route(domain="API.Example.com.", pattern="/api/x")
    route.clean()
    assert route.domain == "api.example.com"
    with pytest.raises(ValidationError) as caught:
        Route(domain="a..b", pattern="/api/x/").clean()
    assert set(caught.value.message_dict) == {"domain", "pattern"}


_path_pieces = st.sampled_from([*"/*{}.%aZ9_-~!$&()+,=:@;\\ 'é", "%2F", "%41", "%C3", "{id}"])


def stored(pattern: str) -> bool:
    """Whether the database takes the pattern; the row is rolled back either way."""
    try:
        with transaction.atomic():
            Route.objects.create(domain="*", pattern=pattern)
            transaction.set_rollback(True)
    except IntegrityError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(st.lists(_path_pieces, min_size=1, max_size=10).map("".join))
def test_the_database_agrees_with_the_parser(pattern):
    """The check constraint runs in the database's own regex engine (PostgreSQL's `~`, or
    Python's `re` behind SQLite's REGEXP): it takes what parse_pattern accepts, and whatever
    it stores beyond that is refused by the parser only for a semantic reason."""
    try:
        parse_pattern(pattern)
    except PatternError as exc:
        reason = str(exc)
    else:
        reason = ""
    if not reason:
        assert stored(pattern)
    elif stored(pattern):
        assert any(
            why in reason for why in ("upper-case hex", "always denied", "itself;", "twice")
        ), reason
