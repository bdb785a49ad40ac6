from __future__ import annotations

import factory
from django.utils import timezone

from audit.models import DecisionRecord


class DecisionRecordFactory(factory.django.DjangoModelFactory):
    """An audited decision; pass `client=` and `route=` to name them as the writer does."""

    class Meta:
        model = DecisionRecord

    class Params:
        client = None
        route = None

    time = factory.LazyFunction(timezone.now)
    reason = "no_permission"
    method = "GET"
    host = "api.example.com"
    path = factory.Sequence(lambda n: f"/api/data/{n}")
    shape = "nginx"
    client_id = factory.LazyAttribute(lambda o: o.client.id if o.client else None)
    client_name = factory.LazyAttribute(lambda o: o.client.name if o.client else "")
    route_id = factory.LazyAttribute(lambda o: o.route.id if o.route else None)
    route_label = factory.LazyAttribute(lambda o: str(o.route) if o.route else "")
