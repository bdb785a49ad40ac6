"""Partly shadowed routes (issue 9, item 13): which routes take some of a route's requests,
by examples, against the decision engine's own matcher, and where operators see it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

# The engine's matcher is the reference: shadowing must agree with what decisions do. (A test
# may import authz; routes' own code may not.)
from authz.matching import PathTable, RouteIndex
from core.actor import Actor
from routes.patterns import parse_pattern
from routes.services import create_route
from routes.shadowing import ShadowIndex, Why, outranks

ROUTES = [
    (1, "*", "/api/users/*"),
    (2, "*", "/api/users/{id}"),
    (3, "*", "/api/users/me"),
    (4, "*", "/api/users/{id}/orders"),
    (5, "*", "/api/*"),
    (6, "*", "/a/{x}/c"),
    (7, "*", "/a/b/{y}"),
    (8, "reports.example.com", "/api/users/*"),
    (9, "*.example.com", "/v1/*"),
    (10, "example.com", "/v1/status"),
    (11, "*.a.example.com", "/v1/{x}"),
    (12, "*.com", "/v1/*"),
    (13, "other.org", "/v2"),
    (14, "[::1]", "/api/*"),
    (15, "*", "/other"),
]


def shadows(route_id: int) -> set[tuple[int, Why]]:
    index = ShadowIndex(ROUTES)
    _, domain, pattern = next(r for r in ROUTES if r[0] == route_id)
    return {(s.by.id, s.why) for s in index.shadows(route_id, domain, pattern)}


@pytest.mark.parametrize(
    ("route_id", "expected"),
    [
        # Each of these ranks above a wildcard for the paths it matches.
        (
            1,
            {(2, Why.PATTERN), (3, Why.PATTERN), (4, Why.PATTERN)}
            | {(8, Why.DOMAIN), (14, Why.DOMAIN)},
        ),
        (2, {(3, Why.PATTERN), (8, Why.DOMAIN), (14, Why.DOMAIN)}),
        (3, {(8, Why.DOMAIN), (14, Why.DOMAIN)}),
        (4, {(8, Why.DOMAIN), (14, Why.DOMAIN)}),
        # A longer wildcard prefix, and everything below it.
        (
            5,
            {(1, Why.PATTERN), (2, Why.PATTERN), (3, Why.PATTERN), (4, Why.PATTERN)}
            | {(8, Why.DOMAIN), (14, Why.DOMAIN)},
        ),
        # Equal literal counts: the earlier literal wins /a/b/c.
        (6, {(7, Why.PATTERN)}),
        (7, set()),
        (9, {(10, Why.DOMAIN), (11, Why.DOMAIN)}),
        (12, {(9, Why.DOMAIN), (10, Why.DOMAIN), (11, Why.DOMAIN)}),
        (13, set()),
        (15, set()),
    ],
)
def test_who_shadows_whom(route_id, expected):
    assert shadows(route_id) == expected


@pytest.mark.parametrize(
    ("other", "domain", "expected"),
    [
        ("api.example.com", "*", True),
        ("[::1]", "*", True),
        ("*", "*", False),
        ("example.com", "*.example.com", True),
        ("a.b.example.com", "*.example.com", True),
        ("*.b.example.com", "*.example.com", True),
        ("*.com", "*.example.com", False),
        ("badexample.com", "*.example.com", False),
        ("[::1]", "*.example.com", False),
        ("*", "api.example.com", False),
        ("*.example.com", "api.example.com", False),
    ],
)
def test_which_domain_is_tried_first(other, domain, expected):
    assert outranks(other, domain) is expected


# --- against the engine's matcher -----------------------------------------------------------

DOMAINS = ["*", "*.example.com", "example.com", "a.example.com", "*.a.example.com", "o.org"]
HOSTS = ["example.com", "a.example.com", "b.a.example.com", "o.org", "x.org"]
SEGMENTS = ["a", "b", "c", None]  # None: a placeholder


@st.composite
def route_sets(draw):
    routes, seen = [], set()
    for route_id in range(1, draw(st.integers(1, 9)) + 1):
        domain = draw(st.sampled_from(DOMAINS))
        segments = draw(st.lists(st.sampled_from(SEGMENTS), max_size=3))
        names = [s or f"{{p{i}}}" for i, s in enumerate(segments)]
        text = "/" + "/".join(names) + ("/*" if draw(st.booleans()) else "")
        text = {"//*": "/*"}.get(text, text)
        canonical = (domain, tuple(s is None or s for s in segments), text.endswith("*"))
        if canonical not in seen:  # the database refuses a second one
            seen.add(canonical)
            routes.append((route_id, domain, text))
    return routes


def _matches(domain: str, text: str, host: str, path: str) -> bool:
    return RouteIndex([(domain, parse_pattern(text), True)]).match(host, path) is True


def _witness(a: str, b: str) -> str:
    """A path both patterns match (they overlap)."""
    pa, pb = parse_pattern(a), parse_pattern(b)
    longest = max(len(pa.segments), len(pb.segments))
    path = []
    for i in range(longest):
        segments = [p.segments[i] for p in (pa, pb) if i < len(p.segments)]
        literals = [segment.text for segment in segments if not segment.is_param]
        path.append(literals[0] if literals else "zz")
    return "/" + "/".join(path)


def _host(domain: str) -> str:
    return {"*": "x.org"}.get(domain, domain.removeprefix("*."))


@given(routes=route_sets(), paths=st.lists(st.lists(st.sampled_from("abc"), max_size=4)))
@settings(max_examples=300, deadline=None)
def test_shadowing_agrees_with_the_decision_engine(routes, paths):
    index = RouteIndex((d, parse_pattern(t), rid) for rid, d, t in routes)
    shadow_index = ShadowIndex(routes)
    for route_id, domain, text in routes:
        found = {s.by.id: s for s in shadow_index.shadows(route_id, domain, text)}
        # Every request the route matches but does not get goes to a route named as shadowing.
        for host in HOSTS:
            for segments in paths:
                path = "/" + "/".join(segments)
                if _matches(domain, text, host, path):
                    winner = index.match(host, path)
                    assert winner == route_id or winner in found, (host, path, winner)
        # Every route named takes at least one request from it.
        for shadow in found.values():
            path = _witness(text, shadow.by.pattern.text)
            host = _host(shadow.by.domain if shadow.why is Why.DOMAIN else domain)
            assert _matches(domain, text, host, path)
            assert index.match(host, path) != route_id, (shadow, host, path)


def test_path_table_reference_is_the_engine_one():
    # Guards the import above: the engine's table is what decisions use.
    table = PathTable()
    table.add(parse_pattern("/a/*"), 1)
    assert table.match("/a") == 1


# --- where operators see it -----------------------------------------------------------------


@pytest.fixture
def demo_routes(db):
    actor = Actor.system("test")
    wide = create_route(domain="*", pattern="/api/data/*", methods={"GET": "api_key"}, actor=actor)
    narrow = create_route(
        domain="*", pattern="/api/data/{id}/events", methods={"POST": "hmac"}, actor=actor
    )
    host = create_route(
        domain="reports.example.com",
        pattern="/api/data/export",
        methods={"GET": "any"},
        actor=actor,
    )
    return wide, narrow, host


def test_list_routes_says_which_routes_are_partly_shadowed(demo_routes):
    wide, narrow, host = demo_routes
    out = StringIO()
    call_command("list_routes", stdout=out)
    lines = out.getvalue().splitlines()

    row = next(i for i, line in enumerate(lines) if line.startswith(f"{wide.pk} "))
    assert lines[row + 1 : row + 3] == [
        f"    partly shadowed by route {narrow.pk} */api/data/{{id}}/events "
        "(a more specific pattern)",
        f"    partly shadowed by route {host.pk} reports.example.com/api/data/export "
        "(a more specific domain)",
    ]
    assert sum("shadowed" in line for line in lines) == 2


def test_list_routes_json_lists_the_shadowing_routes(demo_routes):
    wide, narrow, host = demo_routes
    out = StringIO()
    call_command("list_routes", "--json", stdout=out)
    rows = {row["id"]: row for row in json.loads(out.getvalue())}

    assert rows[wide.pk]["shadowed_by"] == [
        {"id": narrow.pk, "route": "*/api/data/{id}/events", "why": "a more specific pattern"},
        {
            "id": host.pk,
            "route": "reports.example.com/api/data/export",
            "why": "a more specific domain",
        },
    ]
    assert rows[narrow.pk]["shadowed_by"] == []


def test_the_admin_change_page_says_who_shadows_the_route(demo_routes, admin_client):
    wide, narrow, _ = demo_routes
    page = admin_client.get(reverse("admin:routes_route_change", args=[wide.pk])).content.decode()
    shadowing = page.split('id="shadowing"')[1].split('id="holders"')[0]
    assert "*/api/data/{id}/events" in shadowing
    assert "shadowed by a more specific pattern" in shadowing
    quiet = admin_client.get(reverse("admin:routes_route_change", args=[narrow.pk]))
    assert "it has a more specific pattern" in quiet.content.decode()


def test_taken_from_is_shadows_the_other_way_round():
    """The route page says both: who takes requests from this route, and whom it takes them
    from; the two answers must agree for every pair."""
    index = ShadowIndex(ROUTES)
    for route_id, domain, pattern in ROUTES:
        for shadow in index.shadows(route_id, domain, pattern):
            _, other_domain, other_pattern = next(r for r in ROUTES if r[0] == shadow.by.id)
            taken = index.taken_from(shadow.by.id, other_domain, other_pattern)
            assert (route_id, shadow.why) in {(s.by.id, s.why) for s in taken}
        for taken in index.taken_from(route_id, domain, pattern):
            _, other_domain, other_pattern = next(r for r in ROUTES if r[0] == taken.by.id)
            back = index.shadows(taken.by.id, other_domain, other_pattern)
            assert (route_id, taken.why) in {(s.by.id, s.why) for s in back}
