from __future__ import annotations

import factory

from clients.tests.factories import ClientFactory
from permissions.models import Permission, RateLimit
from routes.models import Auth, Route
from routes.tests.factories import RouteFactory, RouteMethodFactory


class PermissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Permission

    client = factory.SubFactory(ClientFactory)
    route = factory.SubFactory(RouteFactory)
    methods = "GET"


class RateLimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateLimit

    client = factory.SubFactory(ClientFactory)
    route = None
    limit = 100
    window = RateLimit.Window.MINUTE


def route_with_methods(*methods: str, auth: str = Auth.API_KEY, **route_fields: object) -> Route:
    """A saved route with `methods` configured, e.g. route_with_methods("GET", "POST")."""
    route = RouteFactory(**route_fields)
    for method in methods:
        RouteMethodFactory(route=route, method=method, auth=auth)
    return route
