from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db.models.signals import post_save

from audit.models import AuditEvent
from core import config_version
from core.actor import Actor
from core.errors import NotFound
from routes.models import Route, RouteMethod
from routes.services import create_route, delete_route, get_route, set_route_methods, update_route
from routes.signals import route_methods_removed

pytestmark = pytest.mark.django_db

ALICE = Actor("user", "alice")


def new_route(pattern: str = "/api/data/*", **kwargs) -> Route:
    return create_route(domain=kwargs.pop("domain", "*"), pattern=pattern, actor=ALICE, **kwargs)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.fixture
def removals():
    """The route_methods_removed signals sent while the test runs."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    route_methods_removed.connect(receiver)
    yield sent
    route_methods_removed.disconnect(receiver)


def test_create_route_normalises_and_audits():
    route = create_route(
        domain="API.Example.com.",
        pattern="/api/users/{id}",
        service_name="users",
        methods={"post": "HMAC", "get": "api_key"},
        actor=ALICE,
    )
    route.refresh_from_db()
    assert route.domain == "api.example.com"
    assert route.method_rules() == {"GET": "api_key", "POST": "hmac"}
    (event,) = events("route.created")
    assert event.actor == "user:alice"
    assert event.object_id == str(route.pk)
    assert event.detail == {
        "domain": "api.example.com",
        "pattern": "/api/users/{id}",
        "methods": {"GET": "api_key", "POST": "hmac"},
    }


def test_a_route_without_methods_is_allowed():
    route = new_route()
    assert route.method_rules() == {}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"domain": "api..example.com"}, {"domain": "empty label"}),
        ({"pattern": "/api/users/"}, {"pattern": "trailing '/'"}),
        ({"domain": "a b", "pattern": "api"}, {"domain": "found ' '", "pattern": "starts with"}),
        ({"methods": {"FETCH": "api_key"}}, {"methods": "'FETCH' is not a method"}),
        (
            {"methods": {"GET": "root"}},
            {"methods": "GET: 'root' is not an auth requirement"},
        ),
        ({"methods": {"GET": "public", "get": "hmac"}}, {"methods": "GET is given twice"}),
        (
            {"pattern": "/api/x;y", "methods": {"GET": "nope"}},
            {"pattern": "';'", "methods": "'nope'"},
        ),
    ],
)
def test_bad_input_names_every_field_at_fault_and_writes_nothing(fields, errors):
    values = {"domain": "*", "pattern": "/api/data/*", "methods": {"GET": "api_key"}, **fields}
    with pytest.raises(ValidationError) as caught:
        create_route(actor=ALICE, **values)
    messages = caught.value.message_dict
    assert set(messages) == set(errors)
    for field, fragment in errors.items():
        assert any(fragment in message for message in messages[field]), messages[field]
    assert not Route.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("domain", ["api.example.com", "API.EXAMPLE.COM", "api.example.com."])
def test_a_duplicate_route_is_a_validation_error(domain):
    new_route("/api/x", domain="api.example.com")
    with pytest.raises(ValidationError) as caught:
        new_route("/api/x", domain=domain)
    assert "already exists" in str(caught.value)
    assert Route.objects.count() == 1


def test_a_failure_after_the_first_write_leaves_nothing_behind():
    def explode(sender, instance, **kwargs):
        if instance.method == "POST":
            raise RuntimeError("disk full")

    post_save.connect(explode, sender=RouteMethod)
    try:
        with pytest.raises(RuntimeError):
            new_route(methods={"GET": "api_key", "POST": "hmac"})
    finally:
        post_save.disconnect(explode, sender=RouteMethod)
    assert not Route.objects.exists()
    assert not RouteMethod.objects.exists()
    assert not AuditEvent.objects.exists()


def test_update_route_changes_only_the_given_fields():
    route = new_route(service_name="data", description="old text")
    updated = update_route(route, actor=ALICE, pattern="/api/v2/data/*", service_name="data-v2")
    updated.refresh_from_db()
    assert (updated.pattern, updated.service_name, updated.description) == (
        "/api/v2/data/*",
        "data-v2",
        "old text",
    )
    (event,) = events("route.updated")
    assert event.detail["changed"] == {
        "pattern": ["/api/data/*", "/api/v2/data/*"],
        "service_name": ["data", "data-v2"],
    }


def test_an_update_that_changes_nothing_is_not_saved_or_audited():
    route = new_route(domain="api.example.com")
    before = Route.objects.get(pk=route.pk).updated_at
    update_route(route, actor=ALICE, domain="API.example.com.", pattern="/api/data/*")
    assert Route.objects.get(pk=route.pk).updated_at == before
    assert events("route.updated") == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pattern": "/api/other"}, "pattern"),
        ({"pattern": "/a//b"}, "pattern"),
        ({"domain": "*.*"}, "domain"),
    ],
)
def test_a_refused_update_changes_nothing(fields, field):
    new_route("/api/other")
    route = new_route("/api/data/*")
    with pytest.raises(ValidationError) as caught:
        update_route(route, actor=ALICE, **fields)
    assert field in caught.value.message_dict
    route.refresh_from_db()
    assert (route.domain, route.pattern) == ("*", "/api/data/*")
    assert events("route.updated") == []


def test_set_route_methods_replaces_the_whole_set(removals):
    route = new_route(methods={"GET": "api_key", "POST": "api_key", "DELETE": "hmac"})
    set_route_methods(route, {"get": "public", "POST": "api_key", "PUT": "any"}, actor=ALICE)
    assert route.method_rules() == {"GET": "public", "POST": "api_key", "PUT": "any"}
    (event,) = events("route.methods_set")
    assert event.detail["methods"] == {"GET": "public", "POST": "api_key", "PUT": "any"}
    assert event.detail["changed"] == {
        "GET": ["api_key", "public"],
        "PUT": [None, "any"],
        "DELETE": ["hmac", None],
    }
    (sent,) = removals
    assert sent["route"].pk == route.pk
    assert sent["removed"] == ("DELETE",)
    assert sent["actor"] == ALICE


def test_removed_methods_are_signalled_in_canonical_order(removals):
    route = new_route(methods={"OPTIONS": "public", "GET": "api_key", "HEAD": "api_key"})
    set_route_methods(route, {}, actor=ALICE)
    assert route.method_rules() == {}
    assert [sent["removed"] for sent in removals] == [("GET", "HEAD", "OPTIONS")]


def test_changing_only_auth_sends_no_removal(removals):
    route = new_route(methods={"GET": "api_key"})
    set_route_methods(route, {"GET": "hmac"}, actor=ALICE)
    assert route.method_rules() == {"GET": "hmac"}
    assert removals == []


def test_setting_the_same_methods_is_a_no_op(removals):
    route = new_route(methods={"GET": "api_key", "POST": "hmac"})
    set_route_methods(route, {"post": "hmac", "get": "API_KEY"}, actor=ALICE)
    assert events("route.methods_set") == []
    assert removals == []


def test_a_failing_removal_receiver_rolls_the_methods_back():
    """The signal is sent inside the transaction: if permissions cannot follow, nothing moves."""
    route = new_route(methods={"GET": "api_key", "POST": "hmac"})

    def refuse(sender, **kwargs):
        raise RuntimeError("permissions could not be narrowed")

    route_methods_removed.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            set_route_methods(route, {"GET": "public"}, actor=ALICE)
    finally:
        route_methods_removed.disconnect(refuse)
    assert route.method_rules() == {"GET": "api_key", "POST": "hmac"}
    assert events("route.methods_set") == []


def test_bad_methods_leave_the_set_as_it_was():
    route = new_route(methods={"GET": "api_key"})
    with pytest.raises(ValidationError) as caught:
        set_route_methods(route, {"GET": "public", "BREW": "api_key"}, actor=ALICE)
    assert caught.value.message_dict == {
        "methods": ["'BREW' is not a method; use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS."]
    }
    assert route.method_rules() == {"GET": "api_key"}


def test_delete_route_removes_it_with_its_methods_and_audits():
    route = new_route(methods={"GET": "api_key", "POST": "hmac"})
    route_id = route.pk
    delete_route(route, actor=ALICE)
    assert not Route.objects.filter(pk=route_id).exists()
    assert not RouteMethod.objects.exists()
    (event,) = events("route.deleted")
    assert (event.object_type, event.object_id, event.object_repr) == (
        "routes.route",
        str(route_id),
        "*/api/data/*",
    )
    assert event.detail["methods"] == {"GET": "api_key", "POST": "hmac"}
    assert event.detail["cascade"] == {"routes.RouteMethod": 2}


def test_a_deleted_route_cannot_be_changed():
    route = new_route()
    delete_route(route, actor=ALICE)
    with pytest.raises(NotFound):
        delete_route(route, actor=ALICE)
    with pytest.raises(NotFound):
        set_route_methods(route, {"GET": "api_key"}, actor=ALICE)
    with pytest.raises(NotFound):
        update_route(route, actor=ALICE, description="x")


@pytest.mark.parametrize("domain", ["api.example.com", "API.example.com", "api.example.com."])
def test_get_route_compares_the_domain_normalised(domain):
    route = new_route("/api/x", domain="api.example.com")
    assert get_route(domain, "/api/x") == route


@pytest.mark.parametrize(
    ("domain", "pattern"), [("*", "/api/x"), ("api.example.com", "/api/X"), ("a..b", "/api/x")]
)
def test_get_route_says_which_route_is_missing(domain, pattern):
    new_route("/api/x", domain="api.example.com")
    with pytest.raises(NotFound) as caught:
        get_route(domain, pattern)
    assert str(caught.value) == f"no route '{domain}{pattern}'"


@pytest.mark.django_db(transaction=True)
def test_route_changes_reach_the_deciders_with_their_commit():
    before = config_version.current()
    route = new_route(methods={"GET": "api_key"})
    after_create = config_version.current()
    set_route_methods(route, {"GET": "hmac"}, actor=ALICE)
    assert len({before, after_create, config_version.current()}) == 3
