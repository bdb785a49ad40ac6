from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEvent
from clients.tests.factories import ClientFactory
from core.actor import Actor
from core.errors import NotFound
from permissions import services
from permissions.models import Permission, RateLimit
from permissions.tests.factories import RateLimitFactory, route_with_methods
from routes.models import Auth, Route
from routes.signals import route_methods_removed

pytestmark = pytest.mark.django_db

ALICE = Actor("user", "alice")


@pytest.fixture
def acme():
    return ClientFactory(name="acme")


@pytest.fixture
def data_route():
    return route_with_methods("GET", "POST", "DELETE", pattern="/api/data/*")


def test_grant_stores_methods_in_canonical_order_and_audits(acme, data_route):
    permission = services.grant(acme, data_route, ["post", "GET"], actor=ALICE)

    permission.refresh_from_db()
    assert permission.methods == "GET,POST"
    event = AuditEvent.objects.get(action="permission.granted")
    assert event.actor == "user:alice"
    assert event.object_id == str(permission.pk)
    assert event.detail == {
        "client": "acme",
        "route": "*/api/data/*",
        "methods": ["GET", "POST"],
        "previous": [],
    }


def test_grant_adds_to_the_methods_a_client_already_holds(acme, data_route):
    first = services.grant(acme, data_route, ["GET"], actor=ALICE)
    second = services.grant(acme, data_route, ["DELETE"], actor=ALICE)

    assert second.pk == first.pk
    assert Permission.objects.get().methods == "GET,DELETE"
    latest = AuditEvent.objects.filter(action="permission.granted").latest("id")
    assert latest.detail["methods"] == ["GET", "DELETE"]
    assert latest.detail["previous"] == ["GET"]


def test_grant_exactly_replaces_the_methods_of_an_existing_permission(acme, data_route):
    services.grant(acme, data_route, ["GET", "POST"], actor=ALICE)
    services.grant(acme, data_route, ["DELETE"], actor=ALICE, exactly=True)

    assert Permission.objects.get().methods == "DELETE"
    latest = AuditEvent.objects.filter(action="permission.granted").latest("id")
    assert latest.detail["previous"] == ["GET", "POST"]


def test_granting_held_methods_changes_nothing(acme, data_route):
    services.grant(acme, data_route, ["GET", "POST"], actor=ALICE)
    services.grant(acme, data_route, ["post"], actor=ALICE)

    assert Permission.objects.get().methods == "GET,POST"
    assert AuditEvent.objects.filter(action="permission.granted").count() == 1


def test_granting_the_same_methods_again_writes_no_audit_row(acme, data_route):
    services.grant(acme, data_route, ["GET"], actor=ALICE)
    services.grant(acme, data_route, ["get"], actor=ALICE)

    assert AuditEvent.objects.filter(action="permission.granted").count() == 1


def test_grant_refuses_a_method_the_route_does_not_configure(acme, data_route):
    with pytest.raises(ValidationError) as excinfo:
        services.grant(acme, data_route, ["GET", "PATCH"], actor=ALICE)

    assert excinfo.value.message_dict == {
        "methods": ["PATCH is not configured on route */api/data/*"]
    }
    assert not Permission.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("methods", [["FOO"], [], "", ["GET", 5]])
def test_grant_refuses_what_is_not_a_list_of_methods(acme, data_route, methods):
    with pytest.raises(ValidationError) as excinfo:
        services.grant(acme, data_route, methods, actor=ALICE)

    assert set(excinfo.value.message_dict) == {"methods"}
    assert not Permission.objects.exists()


def test_grant_accepts_a_public_method(acme):
    route = route_with_methods("OPTIONS", auth=Auth.PUBLIC)

    assert services.grant(acme, route, ["OPTIONS"], actor=ALICE).methods == "OPTIONS"


def test_revoke_without_methods_deletes_the_permission(acme, data_route):
    services.grant(acme, data_route, ["GET", "POST"], actor=ALICE)

    assert services.revoke(acme, data_route, actor=ALICE) is None

    assert not Permission.objects.exists()
    event = AuditEvent.objects.get(action="permission.revoked")
    assert event.detail["methods"] == []
    assert event.detail["previous"] == ["GET", "POST"]


def test_revoke_some_methods_keeps_the_rest(acme, data_route):
    services.grant(acme, data_route, ["GET", "POST"], actor=ALICE)

    permission = services.revoke(acme, data_route, methods=["post"], actor=ALICE)

    assert permission.methods == "GET"
    assert Permission.objects.get().methods == "GET"
    event = AuditEvent.objects.get(action="permission.narrowed")
    assert event.detail["methods"] == ["GET"]


def test_revoking_the_last_methods_deletes_the_permission(acme, data_route):
    services.grant(acme, data_route, ["GET"], actor=ALICE)

    assert services.revoke(acme, data_route, methods=["GET"], actor=ALICE) is None
    assert not Permission.objects.exists()


def test_revoke_without_a_permission_is_not_found(acme, data_route):
    with pytest.raises(NotFound, match="acme has no permission on route"):
        services.revoke(acme, data_route, actor=ALICE)


def test_revoke_refuses_a_method_the_client_does_not_hold(acme, data_route):
    services.grant(acme, data_route, ["GET"], actor=ALICE)

    with pytest.raises(ValidationError, match="acme is not granted POST"):
        services.revoke(acme, data_route, methods=["POST"], actor=ALICE)
    assert Permission.objects.get().methods == "GET"


def test_removing_methods_from_a_route_narrows_its_permissions(acme, data_route):
    other_client = ClientFactory(name="other")
    other_route = route_with_methods("GET", "POST")
    services.grant(acme, data_route, ["GET", "POST"], actor=ALICE)
    services.grant(other_client, data_route, ["POST"], actor=ALICE)
    untouched = services.grant(acme, other_route, ["GET", "POST"], actor=ALICE)
    bob = Actor("user", "bob")

    with transaction.atomic():
        route_methods_removed.send(sender=Route, route=data_route, removed=("POST",), actor=bob)

    assert Permission.objects.get(client=acme, route=data_route).methods == "GET"
    assert not Permission.objects.filter(client=other_client).exists()
    untouched.refresh_from_db()
    assert untouched.methods == "GET,POST"
    narrowed = AuditEvent.objects.get(action="permission.narrowed")
    revoked = AuditEvent.objects.get(action="permission.revoked")
    assert narrowed.actor == revoked.actor == "user:bob"
    assert narrowed.detail["previous"] == ["GET", "POST"]
    assert revoked.detail["client"] == "other"


def test_set_rate_limit_creates_then_updates_the_same_limit(acme):
    created = services.set_rate_limit(acme, limit=100, window="minute", actor=ALICE)
    updated = services.set_rate_limit(acme, limit=50, window="minute", actor=ALICE)

    assert updated.pk == created.pk
    assert RateLimit.objects.get().limit == 50
    events = AuditEvent.objects.filter(action="ratelimit.set").order_by("id")
    assert [e.detail["previous"] for e in events] == [None, 100]
    assert events.last().detail == {
        "client": "acme",
        "route": None,
        "limit": 50,
        "window": "minute",
        "previous": 100,
    }


def test_setting_the_same_limit_again_writes_no_audit_row(acme):
    services.set_rate_limit(acme, limit=10, window="second", actor=ALICE)
    services.set_rate_limit(acme, limit=10, window="second", actor=ALICE)

    assert AuditEvent.objects.filter(action="ratelimit.set").count() == 1


def test_client_wide_and_per_route_limits_are_separate(acme, data_route):
    services.set_rate_limit(acme, limit=100, window="minute", actor=ALICE)
    per_route = services.set_rate_limit(
        acme, limit=10, window="minute", route=data_route, actor=ALICE
    )

    assert RateLimit.objects.count() == 2
    assert per_route.route == data_route
    assert services.get_rate_limit(acme, window="minute").limit == 100
    assert services.get_rate_limit(acme, window="minute", route=data_route).limit == 10


@pytest.mark.parametrize(
    ("limit", "window", "field"),
    [
        (0, "minute", "limit"),
        (-5, "minute", "limit"),
        (True, "minute", "limit"),
        ("10", "minute", "limit"),
        (10, "week", "window"),
        (10, "MINUTE", "window"),
    ],
)
def test_set_rate_limit_refuses_bad_values(acme, limit, window, field):
    with pytest.raises(ValidationError) as excinfo:
        services.set_rate_limit(acme, limit=limit, window=window, actor=ALICE)

    assert set(excinfo.value.message_dict) == {field}
    assert not RateLimit.objects.exists()


def test_set_rate_limit_on_a_deleted_route_is_not_found(acme, data_route):
    Route.objects.filter(pk=data_route.pk).delete()

    with pytest.raises(NotFound):
        services.set_rate_limit(acme, limit=1, window="day", route=data_route, actor=ALICE)


def test_remove_rate_limit_deletes_and_audits():
    rate_limit = RateLimitFactory(limit=7, window=RateLimit.Window.HOUR)

    services.remove_rate_limit(rate_limit, actor=ALICE)

    assert not RateLimit.objects.exists()
    event = AuditEvent.objects.get(action="ratelimit.removed")
    assert event.detail["limit"] is None
    assert event.detail["previous"] == 7


def test_get_rate_limit_without_one_is_not_found(acme):
    with pytest.raises(NotFound, match="acme has no per-hour limit on all routes"):
        services.get_rate_limit(acme, window="hour")
