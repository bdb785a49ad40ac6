"""The route grammar (design §3, §4): what parse_pattern and normalize_domain accept, the
reasons they give, and that the database's regexes never disagree with them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routes.patterns import (
    DOMAIN_REGEX,
    MAX_PATTERN_LENGTH,
    PATTERN_REGEX,
    Kind,
    PatternError,
    normalize_domain,
    normalize_methods,
    parse_pattern,
)


def db_accepts(regex: str, text: str) -> bool:
    """What the check constraints say: the regex, and no newline (Python's `$` allows one)."""
    return re.search(regex, text) is not None and "\n" not in text


@pytest.mark.parametrize(
    ("pattern", "kind", "literals", "params"),
    [
        ("/", Kind.EXACT, 0, ()),
        ("/*", Kind.WILDCARD, 0, ()),
        ("/api/users/me", Kind.EXACT, 3, ()),
        ("/api/users/*", Kind.WILDCARD, 2, ()),
        ("/api/users/{id}/orders", Kind.PLACEHOLDER, 3, ("id",)),
        ("/api/{org}/repos/{repo_id}", Kind.PLACEHOLDER, 2, ("org", "repo_id")),
        ("/api/{org}/*", Kind.WILDCARD, 1, ("org",)),
        ("/{_x1}", Kind.PLACEHOLDER, 0, ("_x1",)),
        ("/api/.well-known/x", Kind.EXACT, 3, ()),
        ("/api/v1.2/x..y/z.", Kind.EXACT, 4, ()),
        ("/api/caf%C3%A9", Kind.EXACT, 2, ()),
        ("/api/a%20b/%25", Kind.EXACT, 3, ()),
        ("/api/~user/a-b_c!$&()+,=:@", Kind.EXACT, 3, ()),
    ],
)
def test_valid_patterns_parse_into_segments(pattern, kind, literals, params):
    parsed = parse_pattern(pattern)
    assert parsed.text == pattern
    assert parsed.kind == kind
    assert parsed.literal_count == literals
    assert tuple(s.param for s in parsed.segments if s.is_param) == params
    assert db_accepts(PATTERN_REGEX, pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "A pattern is required"),
        ("api/users", "starts with '/'"),
        ("/api/users/", "Leave out the trailing '/'"),
        ("/api/users//*", "Leave out the trailing '/'"),
        ("/api//users", "empty segment"),
        ("/api/users*", "'*' is allowed only as the last segment"),
        ("/api/*/users", "'*' is allowed only as the last segment"),
        ("/api/**", "'*' is allowed only as the last segment"),
        ("/api/../admin", "only of dots"),
        ("/api/./admin", "only of dots"),
        ("/api/{id", "a placeholder is a whole segment"),
        ("/api/user{id}", "a placeholder is a whole segment"),
        ("/api/{1st}", "a placeholder is a whole segment"),
        ("/api/{}", "a placeholder is a whole segment"),
        ("/api/{id}/x/{id}", "The placeholder {id} appears twice"),
        ("/api/admin;x", "not allowed in a path pattern: ';'"),
        ("/api/a\\b", "not allowed in a path pattern: '\\\\'"),
        ("/api/a b", "not allowed in a path pattern: ' '"),
        ("/api/a'b", 'not allowed in a path pattern: "\'"'),
        ("/api/x?y", "not allowed in a path pattern: '?'"),
        ("/api/x#y", "not allowed in a path pattern: '#'"),
        ("/api/café", "not allowed in a path pattern: 'é'"),
        ("/api/x\n", "not allowed in a path pattern: '\\n'"),
        ("/api/%zz", "a '%' without two hex digits after it"),
        ("/api/v1.0%", "a '%' without two hex digits after it"),
        ("/api/caf%c3%a9", "upper-case hex (%C3)"),
        ("/api/a%2Fb", "always denied"),
        ("/api/a%5Cb", "always denied"),
        ("/api/a%3Bb", "always denied"),
        ("/api/a%00b", "always denied"),
        ("/api/a%7F", "always denied"),
        ("/api/%61dmin", "write 'a' itself"),
        ("/api/%2E%2E", "write '.' itself"),
        ("/" + "a" * MAX_PATTERN_LENGTH, f"at most {MAX_PATTERN_LENGTH} characters"),
    ],
)
def test_invalid_patterns_say_why(pattern, reason):
    with pytest.raises(PatternError) as caught:
        parse_pattern(pattern)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("domain", "normalized"),
    [
        ("*", "*"),
        (" * ", "*"),
        ("api.example.com", "api.example.com"),
        ("API.Example.COM", "api.example.com"),
        ("api.example.com.", "api.example.com"),
        ("*.example.com", "*.example.com"),
        ("*.Example.com.", "*.example.com"),
        ("localhost", "localhost"),
        ("my_host-1.internal", "my_host-1.internal"),
        ("10.0.0.1", "10.0.0.1"),
        ("[2001:DB8:0:0::1]", "[2001:db8::1]"),
        ("[::1]", "[::1]"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("*.bücher.example", "*.xn--bcher-kva.example"),
    ],
)
def test_domains_normalise(domain, normalized):
    assert normalize_domain(domain) == normalized
    assert db_accepts(DOMAIN_REGEX, normalized)


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("", "A domain is required"),
        ("   ", "A domain is required"),
        (".example.com", "empty label"),
        ("api..example.com", "empty label"),
        ("api.example.com..", "empty label"),
        ("api.*.example.com", "a domain label holds only"),
        ("*example.com", "a domain label holds only"),
        ("*.*.example.com", "a domain label holds only"),
        ("api.example.com:8080", "found ':'"),
        ("user@api.example.com", "found '@'"),
        ("a b.example.com", "found ' '"),
        ("a,b.example.com", "found ','"),
        ("api.example.com/x", "found '/'"),
        ("a" * 64 + ".com", "at most 63 characters"),
        ("*.10.0.0.1", "a wildcard needs a DNS suffix"),
        ("[2001:db8::1", "written in brackets"),
        ("[1.2.3.4]", "is not an IPv6 address"),
        ("[fe80::1%eth0]", "zone ids are not allowed"),
        ("[fe80::1%25eth0]", "zone ids are not allowed"),
        ("ä" * 64 + ".com", "not a valid internationalised domain name"),
        (".".join(["a" * 60] * 5), "at most 255 characters"),
    ],
)
def test_invalid_domains_say_why(domain, reason):
    with pytest.raises(PatternError) as caught:
        normalize_domain(domain)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("methods", "normalized"),
    [
        (["GET"], ("GET",)),
        (["post", "get", "GET"], ("GET", "POST")),
        ("options, Delete head", ("HEAD", "DELETE", "OPTIONS")),
        ({"PATCH", "PUT"}, ("PUT", "PATCH")),
    ],
)
def test_methods_normalise_to_canonical_order(methods, normalized):
    assert normalize_methods(methods) == normalized


@pytest.mark.parametrize(
    ("methods", "reason"),
    [
        ([], "At least one method is required"),
        ("", "At least one method is required"),
        (["GET", "FETCH"], "'FETCH' is not a method"),
        (["GET", 1], "a number is not a method"),
        ({"GET": "api_key"}, "Methods are a list"),
    ],
)
def test_invalid_methods_say_why(methods, reason):
    with pytest.raises(PatternError) as caught:
        normalize_methods(methods)
    assert reason in str(caught.value)


# Reasons for refusing a string that the database's regex would accept. These are the only
# ones: anything else parse_pattern refuses, the constraint refuses too.
SEMANTIC_REASONS = (
    "upper-case hex",  # %2f: the regex wants upper-case hex
    "always denied",  # %2F, %3B, controls: requests carrying them are denied
    "itself; requests are matched",  # %41: requests are matched with 'A' decoded
    "appears twice",  # /{id}/{id}
    f"at most {MAX_PATTERN_LENGTH} characters",  # the column's length, not the regex
)

# Plain characters, characters that are never allowed, and whole tokens that the grammar
# treats specially, so that random strings hit both sides of every rule.
_pieces = st.sampled_from(
    [
        *"/*{}.%aZ09_-~!$&()+,=:@",
        *";\\ '\"#?\n\té",
        "%2F",
        "%2f",
        "%41",
        "%4a",
        "%C3",
        "%20",
        "%00",
        "%7F",
        "{id}",
        "{x}",
        "..",
        "/*",
    ]
)
pattern_like = st.lists(_pieces, max_size=16).map("".join)

_pchar = st.sampled_from([*"abcXYZ019-._~!$&()+,=:@", "..", "%20", "%25", "%C3%A9"])
literal_segment = (
    st.lists(_pchar, min_size=1, max_size=6).map("".join).filter(lambda s: set(s) != {"."})
)
param_name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@st.composite
def valid_patterns(draw: st.DrawFn) -> tuple[str, int, list[str], bool]:
    """A pattern built from segments, with the literal count and placeholders it must have."""
    shape = draw(st.lists(st.booleans(), max_size=6))  # True: a placeholder segment
    names = draw(st.lists(param_name, min_size=len(shape), max_size=len(shape), unique=True))
    segments = [
        f"{{{name}}}" if is_param else draw(literal_segment)
        for is_param, name in zip(shape, names, strict=True)
    ]
    wildcard = draw(st.booleans())
    text = "".join(f"/{segment}" for segment in segments) + ("/*" if wildcard else "")
    text = text or "/"
    params = [name for is_param, name in zip(shape, names, strict=True) if is_param]
    return text, shape.count(False), params, wildcard


def refusal(text: str) -> str | None:
    """parse_pattern's reason for refusing `text`, or None when it accepts it."""
    try:
        parse_pattern(text)
    except PatternError as exc:
        return str(exc)
    return None


@given(pattern_like)
def test_the_database_regex_allows_everything_the_parser_accepts(text):
    reason = refusal(text)
    if reason is None:
        assert db_accepts(PATTERN_REGEX, text)
    else:
        assert not db_accepts(PATTERN_REGEX, text) or any(
            semantic in reason for semantic in SEMANTIC_REASONS
        ), reason


@given(valid_patterns())
def test_built_patterns_round_trip(built):
    text, literals, params, wildcard = built
    parsed = parse_pattern(text)
    assert parsed.text == text
    assert parsed.wildcard is wildcard
    assert parsed.literal_count == literals
    assert [s.param for s in parsed.segments if s.is_param] == params
    expected = Kind.WILDCARD if wildcard else Kind.PLACEHOLDER if params else Kind.EXACT
    assert parsed.kind == expected
    assert db_accepts(PATTERN_REGEX, text)


_domain_pieces = st.sampled_from(
    [*"*.aZ09_-[]:% \t\n@,/", "ä", "ß", "\u3002", "\u212a", "fe80::1", "1.2.3.4", "xn--", "com"]
)
_bracketed = st.builds(
    "[{}{}]".format,
    st.ip_addresses(v=6).map(str),
    st.sampled_from(["", "%eth0", "%25", "%"]),
)
domain_like = (
    st.lists(_domain_pieces, max_size=10).map("".join)
    | _bracketed
    | _bracketed.map(str.upper)
    | st.text(max_size=20)
)


@given(domain_like)
def test_normalised_domains_are_stable_and_fit_the_database(text):
    try:
        domain = normalize_domain(text)
    except PatternError:
        return
    assert db_accepts(DOMAIN_REGEX, domain)
    assert normalize_domain(domain) == domain
