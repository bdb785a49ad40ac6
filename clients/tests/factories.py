from __future__ import annotations

import factory

from clients import encryption, keys
from clients.models import Client, Credential


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"client-{n}")
    status = Client.Status.ACTIVE


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An API key row; pass `plaintext=` when the test needs to present the key."""

    class Meta:
        model = Credential

    class Params:
        plaintext = factory.Sequence(lambda n: f"legacy-test-key-{n:04d}")

    client = factory.SubFactory(ClientFactory)
    kind = Credential.Kind.API_KEY
    prefix = factory.LazyAttribute(lambda o: keys.display_prefix(o.plaintext))
    digest = factory.LazyAttribute(lambda o: keys.digest(o.plaintext))


class HmacSecretFactory(factory.django.DjangoModelFactory):
    """An HMAC secret row sealed with the current keys; pass `secret=` to know it."""

    class Meta:
        model = Credential

    class Params:
        secret = factory.Sequence(lambda n: f"hmac-test-secret-{n:04d}")

    client = factory.SubFactory(ClientFactory)
    kind = Credential.Kind.HMAC
    prefix = factory.Sequence(lambda n: f"hmac_{n:08x}")
    secret_encrypted = factory.LazyAttribute(lambda o: encryption.seal(o.secret))
