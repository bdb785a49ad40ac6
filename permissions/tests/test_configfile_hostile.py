"""Hostile config files (issue 9, items 6 and 18): alias bombs, secrets in the wrong field, huge
values. Every problem is still reported at its location, in bounded memory, and no message
repeats a value that may be a secret or quotes more than a few dozen characters of any value.
"""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.redaction import QUOTE_LIMIT
from core.tests.processes import run_manage_py
from permissions.configfile.plan import build_plan
from permissions.configfile.schema import parse
from permissions.configfile.spec import ConfigError

# The file from the report: 382 bytes that expand to 9**9 strings when a message quotes them.
ALIAS_BOMB = textwrap.dedent(
    """\
    x:
      - &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]
      - &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
      - &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
      - &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
      - &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
      - &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
      - &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
      - &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
      - &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    routes:
      - {pattern: /x, methods: {GET: *i}}
    """
)
# Address space for the whole `manage.py` process: Django starts in a fraction of it; the
# regression (quoting the expanded value) needs gigabytes and dies inside it instead.
MEMORY_LIMIT = 1024 * 1024 * 1024


def problems(text: str, *, fmt: str = "yaml") -> list[str]:
    try:
        config, issues = parse(text, fmt)
        build_plan(config, issues, prune=False)
    except ConfigError as exc:
        return [str(issue) for issue in exc.issues]
    return []


def test_the_alias_bomb_is_refused_at_its_line_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)

    result = run_manage_py(
        "apply_config", str(bomb), "--dry-run", scratch=tmp_path, memory_limit=MEMORY_LIMIT
    )

    assert "MemoryError" not in result.stderr
    assert result.returncode == 2, result.stderr[-2000:]
    assert "line 2, column 5: anchors and aliases" in result.stderr
    assert len(result.stderr) < 2000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("base: &b {GET: public}\n", "line 1, column 7: anchors and aliases"),
        ("routes:\n  - {pattern: /x, domain: *star}\n", "line 2, column 27: anchors and aliases"),
        (
            "routes:\n  - &r {pattern: /x}\n  - *r\n",
            "line 2, column 5: anchors and aliases",
        ),
    ],
)
def test_anchors_and_aliases_are_refused_with_their_location(text, expected):
    (problem,) = problems(text)
    assert problem.startswith(expected)
    # `domain: *` is the usual way to meet an alias by accident.
    assert "quote it" in problem


# --- no secret echoed, every quoted value capped -------------------------------------------


def _client(**fields: object) -> dict:
    return {"clients": [{"name": "acme", **fields}]}


def _route(**fields: object) -> dict:
    return {"routes": [{"pattern": "/x", **fields}]}


# Every place in a file where a value fails a check on its own (not against the database).
PLACES = {
    "credential kind": lambda v: _client(credentials=[{"kind": v}]),
    "credential key": lambda v: _client(credentials=[{"kind": "api_key", "key": v + " x"}]),
    "credential secret of the wrong kind": lambda v: _client(
        credentials=[{"kind": "api_key", "secret": v}]
    ),
    "credential label": lambda v: _client(credentials=[{"kind": "api_key", "label": v * 5}]),
    "client status": lambda v: _client(status=v),
    "client id": lambda v: _client(id=v),
    "client name": lambda v: {"clients": [{"name": "-" + v}]},
    "rate limit window": lambda v: _client(rate_limits=[{"limit": 5, "window": v}]),
    "rate limit limit": lambda v: _client(rate_limits=[{"limit": v, "window": "minute"}]),
    "permission methods": lambda v: _client(permissions=[{"pattern": "/x", "methods": [v]}]),
    "route auth": lambda v: _route(methods={"GET": v}),
    "route service": lambda v: _route(service=v * 5),
}

# Secret-looking values: a generated key, and legacy keys of any printable shape.
secret_values = st.one_of(
    st.from_regex(r"gk_[a-z0-9]{8}_[A-Za-z0-9]{32}", fullmatch=True),
    st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=24, max_size=60
    ),
)


def _echoes(message: str, value: str, window: int = 12) -> bool:
    """Whether any `window` characters in a row of `value` appear in `message`."""
    return any(value[i : i + window] in message for i in range(len(value) - window + 1))


@pytest.mark.parametrize("place", PLACES)
@given(value=secret_values)
@settings(max_examples=25, deadline=None)
def test_a_secret_in_the_wrong_field_is_never_echoed(place, value):
    found = problems_in(PLACES[place](value))
    assert found, f"a {place} of {len(value)} characters was accepted"
    for problem in found:
        assert not _echoes(problem, value), problem


def problems_in(data: dict) -> list[str]:
    from permissions.configfile.schema import validate

    _config, issues = validate(data)
    return [str(issue) for issue in issues]


# Big enough that an uncapped quote shows, small enough that a regression cannot hurt.
HUGE = "a" * 100_000


@pytest.mark.parametrize(
    "data",
    [
        # Patterns are at most 500 characters: a bad segment just under that.
        _route(pattern="/" + "a" * 480 + "%zz"),
        _route(pattern="/ok/" + "b{" * 240),
        _route(domain=HUGE + ".."),
        _route(domain="x." + HUGE),
        _route(**{HUGE: 1}),
        _route(methods={HUGE: "public"}),
        _client(permissions=[{"pattern": "/x", "methods": [HUGE]}]),
        _client(status=[[["a" * 1000] * 100] * 100]),
    ],
    ids=[
        "pattern",
        "pattern-braces",
        "domain-label",
        "domain-length",
        "field-name",
        "method-name",
        "permission-method",
        "nested-status",
    ],
)
def test_every_quoted_value_is_cut_to_a_few_dozen_characters(data):
    found = problems_in(data)
    assert found
    for problem in found:
        assert len(problem) < 4 * QUOTE_LIMIT + 200, problem[:300]


def test_a_duplicated_key_is_quoted_short():
    long_key = "k" * 500
    text = f"{long_key}: 1\n{long_key}: 2\n"
    (problem,) = problems(text)
    assert "appears twice" in problem
    assert len(problem) < 4 * QUOTE_LIMIT + 100
