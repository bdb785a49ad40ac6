from __future__ import annotations

import factory

from routes.models import Auth, Route, RouteMethod


class RouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Route

    domain = "*"
    pattern = factory.Sequence(lambda n: f"/api/r{n}/*")
    service_name = "test-api"


class RouteMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RouteMethod

    route = factory.SubFactory(RouteFactory)
    method = "GET"
    auth = Auth.API_KEY
