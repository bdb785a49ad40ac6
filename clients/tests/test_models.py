"""The database refuses bad clients and credentials, whatever path the row took (both DBs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients import keys
from clients.models import Client, Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory

pytestmark = pytest.mark.django_db


def refused(make) -> bool:
    try:
        with transaction.atomic():
            make()
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("name", ["acme", "Acme.Corp", "a", "team_1-ci", "9lives"])
def test_plain_client_names_are_stored(name):
    assert not refused(lambda: Client.objects.create(name=name))


@pytest.mark.parametrize(
    "name", ["", "-acme", ".acme", "ac me", "acme\n", "ac/me", "açme", "acme;"]
)
def test_client_names_that_break_headers_or_command_lines_are_refused(name):
    assert refused(lambda: Client.objects.create(name=name))


def test_client_names_are_unique_in_any_case():
    Client.objects.create(name="acme")
    assert refused(lambda: Client.objects.create(name="ACME"))


@pytest.mark.parametrize("status", ["", "deleted", "ACTIVE"])
def test_unknown_statuses_are_refused(status):
    assert refused(lambda: Client.objects.create(name="acme", status=status))


def test_an_api_key_stores_a_named_digest_and_no_secret():
    client = ClientFactory()
    digest = keys.digest("legacy-key-0001")
    assert not refused(
        lambda: Credential.objects.create(client=client, kind="api_key", digest=digest)
    )
    assert refused(lambda: Credential.objects.create(client=client, kind="api_key", digest=None))
    assert refused(
        lambda: Credential.objects.create(client=client, kind="api_key", digest="abc123")
    ), "a digest must name its algorithm"
    assert refused(
        lambda: Credential.objects.create(
            client=client, kind="api_key", digest=keys.digest("other-key-01"), secret_encrypted="x"
        )
    )


def test_an_hmac_secret_stores_only_its_sealed_form():
    client = ClientFactory()
    assert refused(
        lambda: Credential.objects.create(client=client, kind="hmac", secret_encrypted="")
    )
    assert refused(
        lambda: Credential.objects.create(
            client=client, kind="hmac", secret_encrypted="x", digest=keys.digest("k-000001")
        )
    )
    assert not refused(
        lambda: Credential.objects.create(client=client, kind="hmac", secret_encrypted="x")
    )


def test_a_digest_names_one_credential_across_clients():
    ApiKeyFactory(plaintext="shared-legacy-key")
    assert refused(lambda: ApiKeyFactory(plaintext="shared-legacy-key"))


def test_many_hmac_secrets_may_coexist_without_digests():
    client = ClientFactory()
    HmacSecretFactory(client=client)
    assert not refused(lambda: HmacSecretFactory(client=client))


@pytest.mark.parametrize("kind", ["", "password", "API_KEY"])
def test_unknown_credential_kinds_are_refused(kind):
    client = ClientFactory()
    assert refused(
        lambda: Credential.objects.create(client=client, kind=kind, digest=keys.digest("k-000002"))
    )


def test_live_means_not_revoked_and_not_expired():
    now = timezone.now()
    live = ApiKeyFactory()
    ApiKeyFactory(revoked_at=now)
    ApiKeyFactory(expires_at=now - timedelta(seconds=1))
    later = ApiKeyFactory(expires_at=now + timedelta(hours=1))
    assert set(Credential.objects.live(at=now)) == {live, later}
    assert later.is_live(now)
    assert not later.is_live(now + timedelta(hours=2))


def test_a_credential_shows_only_its_prefix():
    key = "gk_abcd1234_" + "S" * 32
    cred = ApiKeyFactory(plaintext=key)
    assert "S" * 8 not in str(cred)
    assert "S" * 8 not in repr(cred)
    assert cred.digest not in repr(cred)
