"""Design §4 precedence, checked by examples and against a slow reference matcher."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authz.matching import RouteIndex
from routes.patterns import Kind, Pattern, PatternError, parse_pattern

ROUTES = [
    ("*", "/api/users/*"),
    ("*", "/api/users/{id}"),
    ("*", "/api/users/{id}/orders"),
    ("*", "/api/users/me"),
    ("*", "/api/{version}/users/me"),
    ("*", "/*"),
    ("*", "/"),
    ("*.example.com", "/api/x/*"),
    ("*.b.example.com", "/api/x/deep"),
    ("api.example.com", "/api/*"),
    ("[::1]", "/v6"),
]


@pytest.fixture(scope="module")
def index():
    return RouteIndex((d, parse_pattern(p), f"{d}{p}") for d, p in ROUTES)


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("other.test", "/api/users/me", "*/api/users/me"),
        ("other.test", "/api/users/me/", "*/api/users/me"),
        ("other.test", "/api/users/42", "*/api/users/{id}"),
        ("other.test", "/api/users/42/", "*/api/users/{id}"),
        ("other.test", "/api/users/42/orders", "*/api/users/{id}/orders"),
        ("other.test", "/api/users/42/orders/7", "*/api/users/*"),
        ("other.test", "/api/users", "*/api/users/*"),
        ("other.test", "/api/users/", "*/api/users/*"),
        ("other.test", "/api/usersX", "*/*"),
        ("other.test", "/api/v2/users/me", "*/api/{version}/users/me"),
        ("other.test", "/", "*/"),
        ("other.test", "/anything", "*/*"),
        ("api.example.com", "/api/users/me", "api.example.com/api/*"),
        ("api.example.com", "/other", "*/*"),
        ("example.com", "/api/x/1", "*.example.com/api/x/*"),
        ("a.b.example.com", "/api/x/1", "*.example.com/api/x/*"),
        ("a.b.example.com", "/api/x/deep", "*.b.example.com/api/x/deep"),
        ("b.example.com", "/api/x/deep", "*.b.example.com/api/x/deep"),
        ("notexample.com", "/api/x/1", "*/*"),
        ("[::1]", "/v6", "[::1]/v6"),
        ("[::1]", "/v6/", "[::1]/v6"),
    ],
)
def test_precedence(index, host, path, expected):
    assert index.match(host, path) == expected


def test_no_route_matches_without_a_catch_all():
    index = RouteIndex([("*", parse_pattern("/api/users/*"), 1)])
    assert index.match("x.test", "/api/usersX") is None
    assert index.match("x.test", "/") is None


# --- the reference: every route tried, ranked by the design's words -------------------------


def _regex(pattern: Pattern) -> re.Pattern[str]:
    parts = ["[^/]+" if s.is_param else re.escape(s.text) for s in pattern.segments]
    body = "".join("/" + part for part in parts)
    if pattern.wildcard:
        return re.compile(body + "(/.*)?")
    return re.compile((body or "/") + ("/?" if body else ""))


def _domain_rank(domain: str, host: str) -> tuple[int, int] | None:
    if domain == host:
        return (2, 0)
    if domain.startswith("*.") and (host == domain[2:] or host.endswith(domain[1:])):
        return (1, len(domain))
    if domain == "*":
        return (0, 0)
    return None


def _path_rank(pattern: Pattern) -> tuple:
    flags = tuple(0 if s.is_param else 1 for s in pattern.segments)
    if pattern.kind is Kind.EXACT:
        return (3,)
    if pattern.kind is Kind.PLACEHOLDER:
        return (2, pattern.literal_count, *flags)
    return (1, len(pattern.segments), pattern.literal_count, *flags)


def reference_match(routes, host, path):
    best = None
    for order, (domain, pattern, route) in enumerate(routes):
        domain_rank = _domain_rank(domain, host)
        if domain_rank is None or not _regex(pattern).fullmatch(path):
            continue
        # Equal ranks (patterns equal up to placeholder names): the first one wins.
        rank = (domain_rank, _path_rank(pattern), -order)
        if best is None or rank > best[0]:
            best = (rank, route)
    return best[1] if best else None


SEGMENTS = st.sampled_from(["a", "b", "c", "{p}", "{q}"])
PATTERNS = st.builds(
    lambda segs, wild: (
        "/" + "/".join(segs) + ("/*" if wild else "") if segs else ("/*" if wild else "/")
    ),
    st.lists(SEGMENTS, max_size=4),
    st.booleans(),
)
DOMAINS = st.sampled_from(["*", "*.example.com", "*.a.example.com", "example.com", "a.example.com"])
HOSTS = st.sampled_from(["example.com", "a.example.com", "b.a.example.com", "other.test"])
PATHS = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=5).flatmap(
    lambda segs: st.sampled_from(["/" + "/".join(segs), "/" + "/".join(segs) + "/"])
)


def _parsed(domain_patterns):
    routes, seen = [], set()
    for n, (domain, text) in enumerate(domain_patterns):
        try:
            pattern = parse_pattern(text)
        except PatternError:
            continue
        if (domain, text) in seen:
            continue
        seen.add((domain, text))
        routes.append((domain, pattern, n))
    return routes


@settings(max_examples=400)
@given(st.lists(st.tuples(DOMAINS, PATTERNS), max_size=12), HOSTS, PATHS)
def test_index_agrees_with_the_reference(domain_patterns, host, path):
    routes = _parsed(domain_patterns)
    path = path.replace("//", "/")
    index = RouteIndex(routes)
    assert index.match(host, path) == reference_match(routes, host, path)
