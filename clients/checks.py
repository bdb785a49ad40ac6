"""Deployment checks for credential storage (stable ids; see `manage.py check`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from clients import keys
from clients.encryption import SETTING, EncryptionError, load_key


@checks.register(checks.Tags.security)
def check_secret_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """HMAC secrets cannot be issued or verified without valid Fernet keys: refuse to start."""
    keys = list(getattr(settings, SETTING, None) or [])
    if not keys:
        return [
            checks.Critical(
                f"{SETTING} is empty: HMAC secrets can be neither stored nor verified.",
                hint="Set GATEKEEPER_SECRET_KEYS to a key from Fernet.generate_key().",
                id="clients.E001",
            )
        ]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            load_key(key, position)
        except EncryptionError as exc:
            problems.append(
                checks.Critical(
                    str(exc),
                    hint="Replace that entry; list the new key first and keep old ones after it.",
                    id="clients.E002",
                )
            )
    return problems


@checks.register(checks.Tags.security)
def check_key_peppers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A weak pepper would protect imported keys in name only: refuse to start."""
    problems = []
    peppers = getattr(settings, keys.PEPPER_SETTING, None) or []
    for position, pepper in enumerate(peppers, start=1):
        problem = keys.pepper_problem(pepper)
        if problem is not None:
            problems.append(
                checks.Critical(
                    f"{keys.PEPPER_SETTING} entry {position} is {problem}.",
                    hint="Use python -c 'import secrets; print(secrets.token_urlsafe(32))'; "
                    "keep an old pepper after the new one while keys imported under it live.",
                    id="clients.E003",
                )
            )
    return problems
