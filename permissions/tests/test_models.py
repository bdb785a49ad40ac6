"""The database itself refuses rows that bypass the services (design §3, style rule 12)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from clients.tests.factories import ClientFactory
from permissions.models import Permission, RateLimit
from permissions.tests.factories import PermissionFactory, RateLimitFactory
from routes.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "methods",
    ["", "get", "GET,FOO", "GET,", ",GET", "GET POST", "GET\n", "GET;POST"],
)
def test_permission_methods_must_be_a_list_of_methods(methods):
    client, route = ClientFactory(), RouteFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Permission.objects.create(client=client, route=route, methods=methods)


@pytest.mark.parametrize("methods", ["GET", "GET,POST", "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS"])
def test_permission_accepts_method_lists(methods):
    assert PermissionFactory(methods=methods).pk is not None


def test_a_client_has_one_permission_per_route():
    permission = PermissionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Permission.objects.create(client=permission.client, route=permission.route, methods="POST")


@pytest.mark.parametrize(("limit", "window"), [(0, "minute"), (10, "week"), (10, "")])
def test_rate_limit_needs_a_positive_limit_and_a_known_window(limit, window):
    client = ClientFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        RateLimit.objects.create(client=client, limit=limit, window=window)


def test_a_client_has_one_client_wide_limit_per_window():
    existing = RateLimitFactory(window=RateLimit.Window.MINUTE)

    with pytest.raises(IntegrityError), transaction.atomic():
        RateLimit.objects.create(client=existing.client, limit=5, window="minute")


def test_a_client_has_one_limit_per_route_and_window():
    existing = RateLimitFactory(route=RouteFactory(), window=RateLimit.Window.HOUR)

    with pytest.raises(IntegrityError), transaction.atomic():
        RateLimit.objects.create(
            client=existing.client, route=existing.route, limit=5, window="hour"
        )


def test_client_wide_and_per_route_limits_with_one_window_coexist():
    client, route = ClientFactory(), RouteFactory()
    RateLimitFactory(client=client, window=RateLimit.Window.MINUTE)
    RateLimitFactory(client=client, route=route, window=RateLimit.Window.MINUTE)
    RateLimitFactory(client=client, route=RouteFactory(), window=RateLimit.Window.MINUTE)
    RateLimitFactory(client=client, window=RateLimit.Window.DAY)

    assert RateLimit.objects.filter(client=client).count() == 4


def test_str_names_client_route_and_scope():
    route = RouteFactory(pattern="/api/data/*")
    client = ClientFactory(name="acme")

    assert str(PermissionFactory(client=client, route=route, methods="GET,POST")) == (
        "acme → */api/data/* [GET,POST]"
    )
    assert str(RateLimitFactory(client=client, limit=9, window="second")) == (
        "acme: 9/second on all routes"
    )
