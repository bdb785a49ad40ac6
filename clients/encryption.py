"""HMAC secrets at rest: sealed with Fernet under the keys in `GATEKEEPER_SECRET_KEYS`.

An HMAC secret cannot be stored as a digest, because the decision path needs the secret itself
to compute signatures. It is encrypted instead. The first key seals; every key unseals, so a new
key can be put first while rows sealed with the old one keep working until `reencrypt_secrets`
has moved them over (then the old key can go).

Errors name the setting and a key's position, never a key, a token or a secret.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from core.errors import GatekeeperError

SETTING = "GATEKEEPER_SECRET_KEYS"
_UNDECRYPTABLE = f"A sealed secret cannot be decrypted with any key in {SETTING}."


class EncryptionError(GatekeeperError):
    """The keys are missing or invalid, or a sealed secret opens with none of them."""


def load_key(key: str, position: int) -> Fernet:
    """One Fernet key from the setting; `position` counts from 1 and is only for the message."""
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        # `from None`: the underlying base64 error must not drag the key into a traceback.
        raise EncryptionError(
            f"{SETTING} entry {position} is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes; make one with Fernet.generate_key())."
        ) from None


@functools.lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise EncryptionError(f"{SETTING} is empty: set at least one Fernet key.")
    return MultiFernet([load_key(key, position) for position, key in enumerate(keys, start=1)])


def _current() -> MultiFernet:
    # Read when called, not at import, so tests and reloads see the live setting.
    return _multi_fernet(tuple(getattr(settings, SETTING, ())))


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING:
        _multi_fernet.cache_clear()


def seal(secret: str) -> str:
    """Encrypt a secret with the first key."""
    return _current().encrypt(secret.encode()).decode("ascii")


def unseal(token: str) -> str:
    """Decrypt a sealed secret with whichever key sealed it."""
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise EncryptionError(_UNDECRYPTABLE) from None


def reencrypt(token: str) -> str:
    """Seal a sealed secret again with the first key (MultiFernet.rotate)."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise EncryptionError(_UNDECRYPTABLE) from None
