"""Reading and validating config files: every problem at once, each with its location."""

from __future__ import annotations

import json
import textwrap
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from clients.models import Client
from clients.tests.factories import ClientFactory
from permissions.configfile.loading import format_of, load
from permissions.configfile.plan import build_plan
from permissions.configfile.schema import parse, validate
from permissions.configfile.spec import ConfigError
from permissions.tests.factories import route_with_methods
from routes.models import Route


def problems(text: str, *, fmt: str = "yaml", prune: bool = False) -> list[str]:
    """Every problem the file has, as apply_config would list them."""
    try:
        config, issues = parse(textwrap.dedent(text), fmt)
        build_plan(config, issues, prune=prune)
    except ConfigError as exc:
        return [str(issue) for issue in exc.issues]
    return []


ROUTE = "routes:\n  - {pattern: /api/data/*, methods: {GET: api_key, POST: hmac}}\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "routes:\n  - {pattern: /api/x, servce: x}",
            "routes[0].servce: unknown field (did you mean service?)",
        ),
        ("routes:\n  - {pattern: api/x}", "routes[0].pattern: A pattern starts with '/'."),
        ("routes:\n  - {domain: '*'}", "routes[0].pattern: this field is required"),
        ("routes:\n  - {pattern: 7}", "routes[0].pattern: must be a string, not a number"),
        (
            "routes:\n  - {pattern: /x, domain: 'a..b'}",
            "routes[0].domain: 'a..b': a domain may not have an empty label ('..' or a "
            "leading dot).",
        ),
        (
            "routes:\n  - {pattern: /api/x}\n  - {pattern: /api/y}\n"
            "  - {domain: '*', pattern: /api/x}",
            "routes[2]: duplicate of routes[0] (*/api/x)",
        ),
        (
            "routes:\n  - {domain: API.Example.com., pattern: /x}\n"
            "  - {domain: api.example.com, pattern: /x}",
            "routes[1]: duplicate of routes[0] (api.example.com/x)",
        ),
        (
            "routes:\n  - {pattern: /x, methods: {GET: apikey}}",
            "routes[0].methods.GET: 'apikey' is not one of public, api_key, hmac, any "
            "(did you mean api_key?)",
        ),
        (
            "routes:\n  - {pattern: /x, methods: {FETCH: public}}",
            "routes[0].methods: 'FETCH' is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
        (
            "routes:\n  - {pattern: /x, methods: [GET]}",
            "routes[0].methods: must be a mapping like {GET: api_key}, not a list",
        ),
        ("routes: {pattern: /x}", "routes: must be a list, not a mapping"),
        ("- routes", "(top level): must be a mapping with routes, clients, not a list"),
        ("rutes: []", "rutes: unknown field (did you mean routes?)"),
        (
            "clients:\n  - {name: 'acme corp'}",
            "clients[0].name: a client name starts with a letter or digit and "
            "holds only letters, digits, '.', '_' and '-'",
        ),
        ("clients:\n  - {status: active}", "clients[0].name: this field is required"),
        ("clients:\n  - {name: a, id: 7c0e}", "clients[0].id: '7c0e' is not a UUID"),
        (
            "clients:\n  - {name: a, status: paused}",
            "clients[0].status: 'paused' is not one of active, suspended, revoked",
        ),
        ("clients:\n  - {name: a}\n  - {name: A}", "clients[1]: duplicate of clients[0] (A)"),
        (
            "clients:\n  - {name: a, credentials: [{kind: hmac, key: abcdefgh12}]}",
            "clients[0].credentials[0].key: key is for kind api_key; kind hmac takes secret",
        ),
        (
            "clients:\n  - {name: a, credentials: [{kind: password}]}",
            # Long enough to be a key pasted into the wrong field: not repeated.
            "clients[0].credentials[0].kind: a value of 8 characters (not shown) is not one of "
            "api_key, hmac",
        ),
        (
            "clients:\n  - {name: a, credentials: [{kind: api_key, key: short}]}",
            "clients[0].credentials[0].key: The value must be at least 8 characters long.",
        ),
        (
            "clients:\n  - {name: a, credentials: [{kind: api_key, key: legacy-key-1}]}\n"
            "  - {name: b, credentials: [{kind: api_key, key: legacy-key-1}]}",
            "clients[1].credentials[0]: the same key as clients[0].credentials[0]",
        ),
        (
            "clients:\n  - {name: a}\n  - {name: b, rate_limits: [{limit: 5, window: week}]}",
            "clients[1].rate_limits[0].window: 'week' is not one of second, minute, hour, day",
        ),
        (
            "clients:\n  - {name: a, rate_limits: [{limit: 0, window: day}]}",
            "clients[0].rate_limits[0].limit: must be a whole number of at least 1",
        ),
        (
            "clients:\n  - {name: a, rate_limits: [{limit: true, window: day}]}",
            "clients[0].rate_limits[0].limit: must be a whole number of at least 1",
        ),
        (
            "clients:\n  - {name: a, rate_limits: [{limit: 1, window: day},"
            " {limit: 2, window: day}]}",
            "clients[0].rate_limits[1]: duplicate of clients[0].rate_limits[0] "
            "(per day on all routes)",
        ),
        (
            "clients:\n  - {name: a, rate_limits: [{limit: 1, window: day, domain: '*'}]}",
            "clients[0].rate_limits[0].pattern: this field is required",
        ),
        (
            ROUTE + "clients:\n  - {name: a, permissions: [{pattern: /api/data/*, methods: []}]}",
            "clients[0].permissions[0].methods: At least one method is required.",
        ),
        (
            ROUTE + "clients:\n  - {name: a, permissions: [{pattern: /api/data/*}]}",
            "clients[0].permissions[0].methods: this field is required",
        ),
        (
            ROUTE + "clients:\n  - name: a\n    permissions:\n"
            "      - {pattern: /api/data/*, methods: [GET]}\n"
            "      - {domain: '*', pattern: /api/data/*, methods: [POST]}",
            "clients[0].permissions[1]: duplicate of clients[0].permissions[0] "
            "(route */api/data/*)",
        ),
        (
            ROUTE + "clients:\n  - {name: a}\n  - {name: b}\n  - {name: c}\n  - name: d\n"
            "    permissions: [{pattern: /api/data/*, methods: [GET, PATCH]}]",
            "clients[3].permissions[0].methods: PATCH is not configured on route */api/data/*",
        ),
        (
            ROUTE + "clients:\n  - {name: a, permissions: [{pattern: /api/old/*, methods: [GET]}]}",
            "clients[0].permissions[0]: route */api/old/* is neither in the file nor in the "
            "database",
        ),
        (
            "clients:\n  - {name: a, rate_limits: [{limit: 1, window: day, pattern: /nope}]}",
            "clients[0].rate_limits[0]: route */nope is neither in the file nor in the database",
        ),
    ],
)
def test_each_problem_is_reported_at_its_location(text, expected):
    assert problems(text) == [expected]


@pytest.mark.django_db
def test_every_problem_is_reported_in_one_round():
    found = problems(
        """
        routes:
          - {pattern: /api/x, servce: x, methods: {GET: api_key}}
          - {pattern: /api/x}
        clients:
          - name: acme
            status: asleep
            rate_limits: [{limit: 5, window: week}]
            permissions:
              - {pattern: /api/x, methods: [GET, DELETE]}
              - {pattern: /gone, methods: [GET]}
        """
    )

    assert found == [
        "routes[0].servce: unknown field (did you mean service?)",
        "routes[1]: duplicate of routes[0] (*/api/x)",
        "clients[0].status: 'asleep' is not one of active, suspended, revoked",
        "clients[0].rate_limits[0].window: 'week' is not one of second, minute, hour, day",
        "clients[0].permissions[0].methods: DELETE is not configured on route */api/x",
        "clients[0].permissions[1]: route */gone is neither in the file nor in the database",
    ]


@pytest.mark.django_db
def test_a_broken_route_entry_does_not_also_make_its_permissions_dangling():
    found = problems(
        """
        routes:
          - {pattern: /api/x, methods: {GET: bogus}}
        clients:
          - {name: a, permissions: [{pattern: /api/x, methods: [GET]}]}
        """
    )

    assert found == ["routes[0].methods.GET: 'bogus' is not one of public, api_key, hmac, any"]


@pytest.mark.django_db
def test_permissions_may_name_a_route_that_only_the_database_has():
    route_with_methods("GET", pattern="/api/legacy/*")
    text = "clients:\n  - {name: a, permissions: [{pattern: /api/legacy/*, methods: [GET, PUT]}]}"

    assert problems(text) == [
        "clients[0].permissions[0].methods: PUT is not configured on route */api/legacy/*"
    ]
    assert problems(text, prune=True) == [
        "clients[0].permissions[0]: route */api/legacy/* is not in the file, so --prune would "
        "delete it"
    ]


@pytest.mark.django_db
def test_a_name_that_belongs_to_another_client_id_is_an_error():
    acme = ClientFactory(name="acme")
    other = uuid.uuid4()

    assert problems(f"clients:\n  - {{name: ACME, id: '{other}'}}") == [
        f"clients[0].name: 'acme' is the name of client {acme.pk}, not of {other}; "
        "give that id, or another name"
    ]


@pytest.mark.django_db
def test_two_entries_cannot_claim_the_same_client():
    acme = ClientFactory(name="acme")

    found = problems(f"clients:\n  - {{name: renamed, id: '{acme.pk}'}}\n  - {{name: acme}}")

    assert found == ["clients[1]: names the same client as clients[0] (acme)"]


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (
            "routes:\n  - pattern: /x\n   methods: {}\n",
            "yaml",
            "line 3, column 4: expected <block end>",
        ),
        ("routes:\n  - {domain: *, pattern: /x}\n", "yaml", "line 2, column 15: "),
        ("routes: []\nroutes: []\n", "yaml", "line 2, column 1: the key 'routes' appears twice"),
        ('{"routes": [}', "json", "line 1, column 13: Expecting value"),
        ('{"routes": [], "routes": []}', "json", "the key 'routes' appears twice in one object"),
    ],
)
def test_syntax_errors_name_the_line_and_column(text, fmt, expected):
    with pytest.raises(ConfigError) as caught:
        load(text, fmt)

    assert str(caught.value).startswith(expected)


def test_a_bare_star_gets_a_hint_to_quote_it():
    with pytest.raises(ConfigError, match=r"quote it, as in domain: '\*'"):
        load("routes:\n  - domain: *\n", "yaml")


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("demo.yaml", "yaml"), ("x.YML", "yaml"), ("conf.json", "json"), ("conf.toml", None)],
)
def test_the_format_follows_the_file_name(path, fmt):
    assert format_of(path) == fmt


def test_an_empty_file_is_an_empty_configuration():
    config, issues = parse("", "yaml")

    assert (config.routes, config.clients, issues) == ((), (), [])


def test_valid_entries_become_normalised_specs():
    config, issues = parse(
        textwrap.dedent(
            """
            routes:
              - {domain: API.example.com, pattern: /v1/*, methods: {post: hmac, get: any}}
            clients:
              - name: acme
                credentials: [{kind: api_key, label: ci}]
                permissions: [{domain: api.example.com, pattern: /v1/*, methods: [post, GET]}]
            """
        ),
        "yaml",
    )

    assert issues == []
    (route,) = config.routes
    assert route.key == ("api.example.com", "/v1/*")
    assert route.methods == (("GET", "any"), ("POST", "hmac"))
    (client,) = config.clients
    assert client.status == "active"
    assert client.permissions[0].methods == ("GET", "POST")
    assert client.credentials[0].value is None


def test_an_imported_secret_is_not_in_the_specs_repr():
    config, _ = parse(
        "clients:\n  - {name: a, credentials: [{kind: hmac, secret: s3cret-value-1}]}", "yaml"
    )

    assert "s3cret-value-1" not in repr(config)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["routes", "clients", "pattern", "domain", "methods", "name", "id", "kind", "GET"]
            )
            | st.text(max_size=6),
            children,
            max_size=4,
        )
    ),
    max_leaves=25,
)


@given(_json_values)
@settings(max_examples=300, deadline=None)
def test_validation_reports_problems_and_never_crashes(data):
    _, issues = validate(data)

    assert all(issue.message for issue in issues)


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_text_either_loads_or_raises_a_config_error_with_a_message(text):
    for fmt in ("yaml", "json"):
        try:
            load(text, fmt)
        except ConfigError as exc:
            messages = [issue.message for issue in exc.issues]
        else:
            messages = ["loaded"]
        assert messages
        assert all(messages)


@pytest.mark.django_db
def test_the_command_lists_every_problem_exits_2_and_changes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        ROUTE + "  - {pattern: /api/new, methods: {GET: nope}}\n"
        "clients:\n  - {name: acme, rate_limits: [{limit: 1, window: week}]}\n"
    )

    with pytest.raises(CommandError) as caught:
        call_command("apply_config", str(path), stdout=StringIO())

    assert caught.value.returncode == 2
    assert str(caught.value) == (
        f"{path}: 2 problems; nothing was changed.\n"
        "  routes[1].methods.GET: 'nope' is not one of public, api_key, hmac, any\n"
        "  clients[0].rate_limits[0].window: 'week' is not one of second, minute, hour, day"
    )
    assert not Route.objects.exists()
    assert not Client.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_command_reports_a_json_syntax_error_with_exit_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"routes": []})[:-1])

    with pytest.raises(CommandError) as caught:
        call_command("apply_config", str(path), stdout=StringIO())

    assert caught.value.returncode == 2
    assert "line 1, column 14" in str(caught.value)
