from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from clients.tests.factories import ClientFactory
from permissions.models import Permission, RateLimit
from permissions.tests.factories import PermissionFactory, RateLimitFactory, route_with_methods

pytestmark = pytest.mark.django_db

ADD_PERMISSION = reverse("admin:permissions_permission_add")
PERMISSIONS = reverse("admin:permissions_permission_changelist")
ADD_RATE_LIMIT = reverse("admin:permissions_ratelimit_add")


@pytest.fixture
def acme():
    return ClientFactory(name="acme")


@pytest.fixture
def data_route():
    return route_with_methods("GET", "POST", pattern="/api/data/*")


def test_the_add_form_offers_one_checkbox_per_method(admin_client):
    page = admin_client.get(ADD_PERMISSION).content.decode()

    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        assert f'type="checkbox" name="methods" value="{method}"' in page


def test_staff_grant_a_permission_with_checkboxes(admin_client, acme, data_route):
    response = admin_client.post(
        ADD_PERMISSION, {"client": acme.pk, "route": data_route.pk, "methods": ["POST", "GET"]}
    )

    assert response.status_code == 302
    permission = Permission.objects.get()
    assert (permission.client, permission.route, permission.methods) == (
        acme,
        data_route,
        "GET,POST",
    )
    assert AuditEvent.objects.get(action="permission.granted").actor == "user:admin"


def test_a_method_the_route_lacks_is_a_field_error(admin_client, acme, data_route):
    response = admin_client.post(
        ADD_PERMISSION, {"client": acme.pk, "route": data_route.pk, "methods": ["GET", "PATCH"]}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "methods": ["PATCH is not configured on route */api/data/*"]
    }
    assert not Permission.objects.exists()


def test_a_second_permission_for_the_same_client_and_route_is_refused(
    admin_client, acme, data_route
):
    PermissionFactory(client=acme, route=data_route, methods="GET")

    response = admin_client.post(
        ADD_PERMISSION, {"client": acme.pk, "route": data_route.pk, "methods": ["POST"]}
    )

    assert response.status_code == 200
    assert "already has a permission" in str(response.context["adminform"].form.errors)
    assert Permission.objects.get().methods == "GET"


def test_the_change_form_checks_the_held_methods_and_replaces_them(admin_client, acme, data_route):
    permission = PermissionFactory(client=acme, route=data_route, methods="GET,POST")
    url = reverse("admin:permissions_permission_change", args=[permission.pk])

    page = admin_client.get(url).content.decode()
    assert 'value="GET" id="id_methods_0" checked' in page
    assert 'value="POST" id="id_methods_2" checked' in page
    assert 'value="HEAD" id="id_methods_1" checked' not in page

    response = admin_client.post(url, {"methods": ["POST"]})

    assert response.status_code == 302
    assert Permission.objects.get().methods == "POST"
    assert AuditEvent.objects.get(action="permission.granted").detail["previous"] == [
        "GET",
        "POST",
    ]


def test_deleting_in_the_admin_revokes(admin_client, acme, data_route):
    permission = PermissionFactory(client=acme, route=data_route, methods="GET")
    url = reverse("admin:permissions_permission_delete", args=[permission.pk])

    assert admin_client.post(url, {"post": "yes"}).status_code == 302

    assert not Permission.objects.exists()
    assert AuditEvent.objects.get(action="permission.revoked").actor == "user:admin"


def test_bulk_delete_revokes_each_permission(admin_client):
    permissions = PermissionFactory.create_batch(3)

    response = admin_client.post(
        PERMISSIONS,
        {
            "action": "delete_selected",
            "_selected_action": [p.pk for p in permissions],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not Permission.objects.exists()
    assert AuditEvent.objects.filter(action="permission.revoked").count() == 3


def _changelist_queries(admin_client, url: str = PERMISSIONS) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url).status_code == 200
    return len(queries)


def test_permission_changelist_queries_do_not_grow_with_rows(admin_client):
    PermissionFactory.create_batch(3)
    few = _changelist_queries(admin_client)
    PermissionFactory.create_batch(27)

    assert _changelist_queries(admin_client) == few


def test_filter_by_method_matches_whole_methods(admin_client):
    PermissionFactory(methods="GET,POST")
    PermissionFactory(methods="HEAD")
    PermissionFactory(methods="POST,PUT")

    response = admin_client.get(PERMISSIONS, {"method": "POST"})

    shown = response.context["cl"].result_list
    assert sorted(p.methods for p in shown) == ["GET,POST", "POST,PUT"]


def test_search_finds_permissions_by_client_and_route(admin_client, acme, data_route):
    PermissionFactory(client=acme, route=data_route)
    PermissionFactory()

    for term in ("acme", "/api/data"):
        result = admin_client.get(PERMISSIONS, {"q": term}).context["cl"].result_list
        assert [p.client.name for p in result] == ["acme"]


def test_staff_set_a_client_wide_rate_limit(admin_client, acme):
    response = admin_client.post(
        ADD_RATE_LIMIT, {"client": acme.pk, "route": "", "limit": 100, "window": "minute"}
    )

    assert response.status_code == 302
    rate_limit = RateLimit.objects.get()
    assert (rate_limit.route, rate_limit.limit, rate_limit.window) == (None, 100, "minute")
    assert AuditEvent.objects.get(action="ratelimit.set").actor == "user:admin"


def test_a_zero_limit_is_a_field_error(admin_client, acme):
    response = admin_client.post(
        ADD_RATE_LIMIT, {"client": acme.pk, "route": "", "limit": 0, "window": "minute"}
    )

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"limit"}
    assert not RateLimit.objects.exists()


def test_a_second_client_wide_limit_for_a_window_is_refused(admin_client, acme):
    RateLimitFactory(client=acme, window="minute", limit=5)

    response = admin_client.post(
        ADD_RATE_LIMIT, {"client": acme.pk, "route": "", "limit": 9, "window": "minute"}
    )

    assert response.status_code == 200
    assert "already has a limit for this window" in str(response.context["adminform"].form.errors)
    assert RateLimit.objects.get().limit == 5


def test_changing_a_limit_updates_it(admin_client, acme):
    rate_limit = RateLimitFactory(client=acme, limit=5)
    url = reverse("admin:permissions_ratelimit_change", args=[rate_limit.pk])

    assert admin_client.post(url, {"limit": 50}).status_code == 302

    assert RateLimit.objects.get().limit == 50
    assert AuditEvent.objects.get(action="ratelimit.set").detail["previous"] == 5


def test_deleting_a_rate_limit_in_the_admin_removes_it(admin_client):
    rate_limit = RateLimitFactory()
    url = reverse("admin:permissions_ratelimit_delete", args=[rate_limit.pk])

    assert admin_client.post(url, {"post": "yes"}).status_code == 302

    assert not RateLimit.objects.exists()
    assert AuditEvent.objects.filter(action="ratelimit.removed").count() == 1


def test_rate_limit_changelist_queries_do_not_grow_with_rows(admin_client):
    url = reverse("admin:permissions_ratelimit_changelist")
    RateLimitFactory.create_batch(3, route=None)
    few = _changelist_queries(admin_client, url)
    for route in [route_with_methods("GET") for _ in range(27)]:
        RateLimitFactory(route=route)

    assert _changelist_queries(admin_client, url) == few
