from __future__ import annotations

import factory

from clients.models import Client


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"client-{n}")
    status = Client.Status.ACTIVE
