"""`reencrypt_secrets`: moving every HMAC secret to the first encryption key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from audit.models import AuditEvent
from clients import encryption
from clients.models import Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory
from clients.tests.test_commands import fails, run

pytestmark = pytest.mark.django_db


def test_reencrypt_secrets_moves_every_secret_to_the_new_key():
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(GATEKEEPER_SECRET_KEYS=[old_key]):
        secrets = {
            HmacSecretFactory(secret=f"secret-{n:04d}").pk: f"secret-{n:04d}" for n in range(3)
        }
        api_key = ApiKeyFactory()
    with override_settings(GATEKEEPER_SECRET_KEYS=[new_key, old_key]):
        output = run("reencrypt_secrets")
    assert "Re-encrypted 3 HMAC secret(s)" in output
    with override_settings(GATEKEEPER_SECRET_KEYS=[new_key]):
        for pk, secret in secrets.items():
            assert encryption.unseal(Credential.objects.get(pk=pk).secret_encrypted) == secret
    assert Credential.objects.get(pk=api_key.pk).digest == api_key.digest
    assert AuditEvent.objects.get(action="credential.secrets_reencrypted").detail == {"count": 3}


def test_reencrypt_secrets_reports_progress_on_large_tables():
    client = ClientFactory()
    sealed = encryption.seal("bulk-secret")
    Credential.objects.bulk_create(
        Credential(client=client, kind="hmac", prefix=f"hmac_{n:08x}", secret_encrypted=sealed)
        for n in range(501)
    )
    output = run("reencrypt_secrets")
    assert "… 500 so far" in output
    assert "Re-encrypted 501 HMAC secret(s)" in output


def test_reencrypt_secrets_dry_run_keeps_the_old_tokens():
    credential = HmacSecretFactory()
    output = run("reencrypt_secrets", "--dry-run")
    assert "Would re-encrypt 1" in output
    assert Credential.objects.get().secret_encrypted == credential.secret_encrypted


def test_reencrypt_secrets_stops_without_changes_when_a_secret_cannot_be_opened():
    lost_key = Fernet.generate_key().decode()
    good = HmacSecretFactory()
    with override_settings(GATEKEEPER_SECRET_KEYS=[lost_key]):
        lost = HmacSecretFactory()
    message = fails("reencrypt_secrets")
    assert f"Credential {lost.pk}" in message
    assert lost.secret_encrypted not in message
    assert Credential.objects.get(pk=good.pk).secret_encrypted == good.secret_encrypted
