from __future__ import annotations

import uuid

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from clients import encryption
from core.errors import GatekeeperError

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


# Hypothesis also tries string constants found in the project's own code ("no_auth_required",
# "api.example.com", ...). Every sealed value counts as a secret for the suite-wide secret scan,
# which would then find such a word in any log line: a random tail keeps each value unique
# while the text in front of it stays arbitrary.
arbitrary_secrets = st.text(min_size=1, max_size=200).map(lambda text: f"{text}{uuid.uuid4()}")


@given(arbitrary_secrets)
def test_a_sealed_secret_unseals_to_itself(secret):
    assert encryption.unseal(encryption.seal(secret)) == secret


def test_the_sealed_form_does_not_contain_the_secret():
    secret = "hmac-secret-that-must-not-show"
    token = encryption.seal(secret)
    assert secret not in token
    assert encryption.seal(secret) != token  # fresh IV every time


def test_a_secret_sealed_under_another_key_does_not_unseal_and_the_error_names_neither():
    with override_settings(GATEKEEPER_SECRET_KEYS=[OLD_KEY]):
        token = encryption.seal("the-secret-value")
    with (
        override_settings(GATEKEEPER_SECRET_KEYS=[NEW_KEY]),
        pytest.raises(encryption.EncryptionError) as excinfo,
    ):
        encryption.unseal(token)
    message = str(excinfo.value)
    assert "GATEKEEPER_SECRET_KEYS" in message
    assert token not in message
    assert "the-secret-value" not in message
    assert excinfo.value.__cause__ is None
    assert isinstance(excinfo.value, GatekeeperError)


def test_garbage_is_not_a_sealed_secret():
    with pytest.raises(encryption.EncryptionError):
        encryption.unseal("not-a-fernet-token")


def test_after_key_rotation_old_secrets_unseal_and_reencrypt_moves_them_to_the_new_key():
    with override_settings(GATEKEEPER_SECRET_KEYS=[OLD_KEY]):
        token = encryption.seal("rotating-secret")
    with override_settings(GATEKEEPER_SECRET_KEYS=[NEW_KEY, OLD_KEY]):
        assert encryption.unseal(token) == "rotating-secret"
        resealed = encryption.reencrypt(token)
    with override_settings(GATEKEEPER_SECRET_KEYS=[NEW_KEY]):
        assert encryption.unseal(resealed) == "rotating-secret"
        with pytest.raises(encryption.EncryptionError):
            encryption.unseal(token)


def test_reencrypt_refuses_a_token_no_key_opens():
    with override_settings(GATEKEEPER_SECRET_KEYS=[OLD_KEY]):
        token = encryption.seal("lost-secret")
    with (
        override_settings(GATEKEEPER_SECRET_KEYS=[NEW_KEY]),
        pytest.raises(encryption.EncryptionError) as excinfo,
    ):
        encryption.reencrypt(token)
    assert token not in str(excinfo.value)


@override_settings(GATEKEEPER_SECRET_KEYS=[])
def test_sealing_without_keys_is_a_clear_error():
    with pytest.raises(encryption.EncryptionError, match="is empty"):
        encryption.seal("secret")


@override_settings(GATEKEEPER_SECRET_KEYS=[NEW_KEY, "not-a-valid-fernet-key"])
def test_an_invalid_key_is_named_by_position_never_by_value():
    with pytest.raises(encryption.EncryptionError, match="entry 2") as excinfo:
        encryption.seal("secret")
    assert "not-a-valid-fernet-key" not in str(excinfo.value)
