from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from clients import encryption, keys, services
from clients.models import Client, Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory
from core.actor import Actor
from core.errors import NotFound

pytestmark = pytest.mark.django_db

ACTOR = Actor("user", "alice")


def audit_text() -> str:
    """Everything the audit trail holds, as one string to search for secrets."""
    return "\n".join(
        f"{e.actor} {e.action} {e.object_type} {e.object_id} {e.object_repr} {e.detail}"
        for e in AuditEvent.objects.all()
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


# --- clients ----------------------------------------------------------------------------------


def test_create_client_saves_and_audits_it():
    client = services.create_client(name="acme", description="Acme Corp", actor=ACTOR)
    client.refresh_from_db()
    assert client.status == Client.Status.ACTIVE
    (event,) = events("client.created")
    assert event.actor == "user:alice"
    assert event.object_id == str(client.pk)
    assert event.detail == {"name": "acme", "status": "active"}


def test_create_client_keeps_the_given_id():
    client_id = uuid.uuid4()
    client = services.create_client(name="hmac-caller", client_id=client_id, actor=ACTOR)
    assert Client.objects.get(name="hmac-caller").pk == client_id == client.pk


def test_create_client_never_overwrites_a_client_with_the_same_id():
    existing = ClientFactory(name="first")
    with pytest.raises(ValidationError):
        services.create_client(name="second", client_id=existing.pk, actor=ACTOR)
    assert Client.objects.get(pk=existing.pk).name == "first"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "ACME"}, "__all__"),  # names are unique whatever their case
        ({"name": "has space"}, "__all__"),
        ({"name": ""}, "name"),
        ({"name": "fine", "status": "paused"}, "status"),
    ],
)
def test_create_client_rejects_bad_input_and_writes_nothing(kwargs, field):
    ClientFactory(name="acme")
    with pytest.raises(ValidationError) as excinfo:
        services.create_client(actor=ACTOR, **kwargs)
    assert field in excinfo.value.message_dict
    assert Client.objects.count() == 1
    assert not events("client.created")


def test_update_client_changes_only_what_is_given_and_audits_old_and_new():
    client = ClientFactory(name="old-name", description="keep me")
    services.update_client(client, name="new-name", actor=ACTOR)
    client.refresh_from_db()
    assert (client.name, client.description) == ("new-name", "keep me")
    (event,) = events("client.updated")
    assert event.detail == {"name": {"from": "old-name", "to": "new-name"}}


def test_update_client_without_changes_saves_and_audits_nothing():
    client = ClientFactory(name="same", description="same")
    before = Client.objects.get(pk=client.pk).updated_at
    services.update_client(client, name="same", description=None, actor=ACTOR)
    assert Client.objects.get(pk=client.pk).updated_at == before
    assert not events("client.updated")


def test_update_client_refuses_a_name_taken_by_another_client():
    ClientFactory(name="taken")
    client = ClientFactory(name="mine")
    with pytest.raises(ValidationError):
        services.update_client(client, name="TAKEN", actor=ACTOR)
    assert Client.objects.get(pk=client.pk).name == "mine"


def test_set_client_status_audits_the_change_from_the_stored_status():
    client = ClientFactory()
    client.status = Client.Status.SUSPENDED  # what an admin form leaves on the instance
    updated = services.set_client_status(client, Client.Status.SUSPENDED, actor=ACTOR)
    assert updated.status == Client.Status.SUSPENDED
    assert Client.objects.get(pk=client.pk).status == Client.Status.SUSPENDED
    (event,) = events("client.status_set")
    assert event.detail == {"from": "active", "to": "suspended"}


def test_set_client_status_to_the_current_status_is_a_silent_no_op():
    client = ClientFactory(status=Client.Status.REVOKED)
    services.set_client_status(client, Client.Status.REVOKED, actor=ACTOR)
    assert not events("client.status_set")


def test_set_client_status_rejects_an_unknown_status():
    client = ClientFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.set_client_status(client, "paused", actor=ACTOR)
    assert "status" in excinfo.value.message_dict
    assert Client.objects.get(pk=client.pk).status == Client.Status.ACTIVE


def test_delete_client_deletes_its_credentials_with_one_audit_row_of_counts():
    client = ClientFactory(name="gone")
    ApiKeyFactory.create_batch(2, client=client)
    HmacSecretFactory(client=client)
    keep = ApiKeyFactory()
    client_id = str(client.pk)
    services.delete_client(client, actor=ACTOR)
    assert not Client.objects.filter(pk=client_id).exists()
    assert list(Credential.objects.all()) == [keep]
    (event,) = events("client.deleted")
    assert event.object_id == client_id
    assert event.object_repr == "gone"
    assert event.detail["credentials"] == {"api_key": 2, "hmac": 1}
    assert event.detail["deleted"]["clients.Credential"] == 3


@pytest.mark.parametrize("lookup", ["Acme", "ACME", "acme"])
def test_get_client_finds_a_name_in_any_case(lookup):
    client = ClientFactory(name="acme")
    assert services.get_client(lookup) == client


def test_get_client_finds_an_id():
    client = ClientFactory()
    assert services.get_client(str(client.pk)) == client


@pytest.mark.parametrize("lookup", ["nobody", "e06d06d9-7e9e-413b-b452-6813da58f163", ""])
def test_get_client_raises_not_found(lookup):
    ClientFactory(name="somebody")
    with pytest.raises(NotFound):
        services.get_client(lookup)


# --- issuing ----------------------------------------------------------------------------------


def test_issue_api_key_returns_the_plaintext_and_stores_only_its_digest():
    client = ClientFactory()
    issued = services.issue_api_key(client, label="ci", actor=ACTOR)
    stored = Credential.objects.get(pk=issued.credential.pk)
    assert issued.plaintext.startswith(stored.prefix + "_")
    assert stored.prefix == keys.display_prefix(issued.plaintext)
    assert stored.digest == keys.digest(issued.plaintext)
    assert stored.secret_encrypted == ""
    assert stored.label == "ci"
    assert stored.is_live()
    row = [str(value) for value in Credential.objects.filter(pk=stored.pk).values().get().values()]
    assert not any(issued.plaintext in value for value in row)


def test_issuing_is_audited_without_plaintext_digest_or_sealed_secret():
    client = ClientFactory(name="acme")
    expires_at = timezone.now() + timedelta(days=30)
    key = services.issue_api_key(client, label="ci", expires_at=expires_at, actor=ACTOR)
    secret = services.issue_hmac_secret(client, actor=ACTOR)
    first, second = events("credential.issued")[::-1]
    assert first.detail == {
        "client": "acme",
        "kind": "api_key",
        "prefix": key.credential.prefix,
        "label": "ci",
        "expires_at": expires_at.isoformat(),
        "imported": False,
    }
    assert second.detail["kind"] == "hmac"
    trail = audit_text()
    for value in (
        key.plaintext,
        key.credential.digest,
        key.credential.digest.partition("$")[2],
        secret.plaintext,
        secret.credential.secret_encrypted,
    ):
        assert value not in trail


def test_importing_a_legacy_key_keeps_it_working_under_its_digest():
    client = ClientFactory()
    issued = services.issue_api_key(client, plaintext="Legacy.Key-0001", actor=ACTOR)
    assert issued.plaintext == "Legacy.Key-0001"
    assert issued.credential.prefix.startswith("legacy_")
    assert (
        Credential.objects.get(digest=keys.peppered_digest("Legacy.Key-0001")) == issued.credential
    )
    assert events("credential.issued")[0].detail["imported"] is True
    assert "Legacy.Key-0001" not in audit_text()


def test_importing_a_key_in_use_says_so_without_naming_its_holder():
    ApiKeyFactory(client=ClientFactory(name="secret-holder"), plaintext="shared-key-123")
    client = ClientFactory(name="newcomer")
    with pytest.raises(ValidationError) as excinfo:
        services.issue_api_key(client, plaintext="shared-key-123", actor=ACTOR)
    assert excinfo.value.message_dict == {"key": ["This API key is already in use."]}
    assert "secret-holder" not in str(excinfo.value)
    assert not client.credentials.exists()
    assert not events("credential.issued")


@pytest.mark.parametrize("value", ["", "short", "with space-inside", "ключ-ключ-ключ"])
def test_importing_an_unusable_key_is_refused_without_echoing_it(value):
    with pytest.raises(ValidationError) as excinfo:
        services.issue_api_key(ClientFactory(), plaintext=value, actor=ACTOR)
    assert list(excinfo.value.message_dict) == ["key"]
    if value:
        assert value not in str(excinfo.value)
    assert not Credential.objects.exists()


@pytest.mark.parametrize("issue", [services.issue_api_key, services.issue_hmac_secret])
def test_a_credential_cannot_be_issued_already_expired(issue):
    with pytest.raises(ValidationError) as excinfo:
        issue(ClientFactory(), expires_at=timezone.now() - timedelta(seconds=1), actor=ACTOR)
    assert "expires_at" in excinfo.value.message_dict
    assert not Credential.objects.exists()


def test_issue_hmac_secret_stores_it_sealed_and_a_prefix_unrelated_to_it():
    issued = services.issue_hmac_secret(ClientFactory(), actor=ACTOR)
    stored = Credential.objects.get(pk=issued.credential.pk)
    assert len(issued.plaintext) >= 43  # token_urlsafe(32): 256 random bits
    assert stored.digest is None
    assert encryption.unseal(stored.secret_encrypted) == issued.plaintext
    assert issued.plaintext not in stored.secret_encrypted
    assert stored.prefix.startswith("hmac_")
    assert stored.prefix.removeprefix("hmac_")[:4] not in issued.plaintext[:8]


def test_issue_hmac_secret_can_import_an_existing_secret():
    issued = services.issue_hmac_secret(ClientFactory(), secret="seed-era-secret", actor=ACTOR)
    assert issued.plaintext == "seed-era-secret"
    assert encryption.unseal(issued.credential.secret_encrypted) == "seed-era-secret"


@override_settings(GATEKEEPER_SECRET_KEYS=[])
def test_issue_hmac_secret_without_encryption_keys_fails_and_writes_nothing():
    with pytest.raises(encryption.EncryptionError):
        services.issue_hmac_secret(ClientFactory(), actor=ACTOR)
    assert not Credential.objects.exists()
    assert not events("credential.issued")


def test_secrets_stay_out_of_repr_and_str():
    client = ClientFactory()
    key = services.issue_api_key(client, actor=ACTOR)
    secret = services.issue_hmac_secret(client, actor=ACTOR)
    for issued in (key, secret):
        shown = repr(issued) + repr(issued.credential) + str(issued.credential)
        assert issued.plaintext not in shown
        assert issued.credential.prefix in shown
    assert key.credential.digest not in repr(key.credential)
    assert secret.credential.secret_encrypted not in repr(secret.credential)
