"""Rotating and revoking credentials through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from clients import encryption, services
from clients.models import Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory
from clients.tests.test_services import ACTOR, audit_text, events
from core.errors import Conflict, NotFound

pytestmark = pytest.mark.django_db


# --- rotation and revocation ------------------------------------------------------------------


def test_rotation_issues_a_new_key_and_gives_the_old_ones_a_grace_period():
    client = ClientFactory()
    now = timezone.now()
    forever = ApiKeyFactory(client=client)
    soon = ApiKeyFactory(client=client, expires_at=now + timedelta(hours=1))
    late = ApiKeyFactory(client=client, expires_at=now + timedelta(days=30))
    revoked = ApiKeyFactory(client=client, revoked_at=now - timedelta(days=1))
    hmac = HmacSecretFactory(client=client)
    other_client = ApiKeyFactory()

    issued = services.rotate_credentials(
        client, kind=Credential.Kind.API_KEY, grace=timedelta(hours=24), actor=ACTOR
    )

    for credential in (forever, soon, late, revoked, hmac, other_client):
        credential.refresh_from_db()
    deadline = forever.expires_at
    assert now + timedelta(hours=24) <= deadline <= timezone.now() + timedelta(hours=24)
    assert late.expires_at == deadline
    assert soon.expires_at == now + timedelta(hours=1)  # already due sooner: unchanged
    assert revoked.expires_at is None
    assert hmac.expires_at is None
    assert other_client.expires_at is None
    assert {c.pk for c in issued.retiring} == {forever.pk, soon.pk, late.pk}
    assert forever.is_live()
    assert issued.credential.is_live()
    assert not forever.is_live(at=deadline)
    assert issued.credential.is_live(at=deadline)


def test_rotation_is_audited_with_the_retiring_prefixes_and_no_secrets():
    client = ClientFactory()
    old = ApiKeyFactory(client=client, plaintext="old-legacy-key")
    issued = services.rotate_credentials(
        client, kind=Credential.Kind.API_KEY, grace=timedelta(hours=1), actor=ACTOR
    )
    (event,) = events("credential.rotated")
    assert event.detail["prefix"] == issued.credential.prefix
    assert event.detail["grace_seconds"] == 3600
    assert [r["prefix"] for r in event.detail["retiring"]] == [old.prefix]
    trail = audit_text()
    assert issued.plaintext not in trail
    assert "old-legacy-key" not in trail
    assert issued.credential.digest not in trail


def test_rotating_hmac_secrets_keeps_api_keys_alone():
    client = ClientFactory()
    key = ApiKeyFactory(client=client)
    old = HmacSecretFactory(client=client)
    issued = services.rotate_credentials(
        client, kind=Credential.Kind.HMAC, grace=timedelta(0), actor=ACTOR
    )
    old.refresh_from_db()
    key.refresh_from_db()
    assert issued.credential.kind == Credential.Kind.HMAC
    assert not old.is_live()
    assert key.expires_at is None


@override_settings(GATEKEEPER_SECRET_KEYS=[])
def test_a_failed_rotation_leaves_the_old_credentials_untouched():
    client = ClientFactory()
    with override_settings(GATEKEEPER_SECRET_KEYS=["p0r8C5Ww-VwB0nQWDyX4q7W9vQJp0kQfOlOSTzqoX9U="]):
        old = HmacSecretFactory(client=client)
    with pytest.raises(encryption.EncryptionError):
        services.rotate_credentials(
            client, kind=Credential.Kind.HMAC, grace=timedelta(hours=1), actor=ACTOR
        )
    old.refresh_from_db()
    assert old.expires_at is None
    assert client.credentials.count() == 1
    assert not events("credential.rotated")


@pytest.mark.parametrize(
    ("kind", "grace", "field"),
    [("password", timedelta(hours=1), "kind"), ("api_key", timedelta(seconds=-1), "grace")],
)
def test_rotation_rejects_bad_input(kind, grace, field):
    client = ClientFactory()
    old = ApiKeyFactory(client=client)
    with pytest.raises(ValidationError) as excinfo:
        services.rotate_credentials(client, kind=kind, grace=grace, actor=ACTOR)
    assert field in excinfo.value.message_dict
    old.refresh_from_db()
    assert old.expires_at is None


def test_revoke_stops_a_credential_now_and_audits_it():
    credential = ApiKeyFactory()
    revoked = services.revoke_credential(credential, actor=ACTOR)
    assert revoked.revoked_at is not None
    assert not Credential.objects.get(pk=credential.pk).is_live()
    (event,) = events("credential.revoked")
    assert event.detail["prefix"] == credential.prefix


def test_revoking_a_revoked_credential_is_a_conflict():
    credential = ApiKeyFactory(revoked_at=timezone.now() - timedelta(hours=1))
    before = credential.revoked_at
    with pytest.raises(Conflict, match="already revoked"):
        services.revoke_credential(credential, actor=ACTOR)
    assert Credential.objects.get(pk=credential.pk).revoked_at == before


def test_get_credential_by_prefix_prefers_the_unrevoked_one():
    ApiKeyFactory(plaintext="same-start-0000000001", revoked_at=timezone.now())
    live = ApiKeyFactory(plaintext="same-start-0000000002")
    assert services.get_credential(prefix="same") == live


def test_get_credential_with_an_ambiguous_prefix_lists_ids_and_nothing_secret():
    first = ApiKeyFactory(plaintext="dupe-prefix-000000001")
    second = ApiKeyFactory(plaintext="dupe-prefix-000000002")
    with pytest.raises(Conflict) as excinfo:
        services.get_credential(prefix="dupe")
    message = str(excinfo.value)
    assert str(first.pk) in message
    assert str(second.pk) in message
    assert "dupe-prefix" not in message
    assert first.digest not in message


@pytest.mark.parametrize("lookup", [{"prefix": "gk_nothing"}, {"pk": 987654}])
def test_get_credential_raises_not_found(lookup):
    ApiKeyFactory()
    with pytest.raises(NotFound):
        services.get_credential(**lookup)
