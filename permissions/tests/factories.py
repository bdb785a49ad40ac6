from __future__ import annotations

import factory

from clients.tests.factories import ClientFactory
from permissions.models import Permission, RateLimit
from routes.tests.factories import RouteFactory


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
