from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from rest_framework.test import APIClient

from api.services import IssuedToken, issue_token
from core.actor import Actor

CONFIG_APPS = ("routes", "clients", "permissions", "audit")


def grant_perms(user: User, *codenames: str) -> None:
    """Give `user` the model permissions named `app.codename` (all of CONFIG_APPS' with '*')."""
    if codenames == ("*",):
        perms = Permission.objects.filter(content_type__app_label__in=CONFIG_APPS)
    else:
        perms = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in (name.split(".") for name in codenames)
        ]
    user.user_permissions.add(*perms)


@pytest.fixture
def staff(db) -> User:
    user = User.objects.create_user("ops", password="not-used-here-0", is_staff=True)
    grant_perms(user, "*")
    return user


@pytest.fixture
def token(staff) -> IssuedToken:
    return issue_token(staff, label="ci", actor=Actor.system("test"))


def client_with(token: IssuedToken | str) -> APIClient:
    plaintext = token if isinstance(token, str) else token.plaintext
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return api


@pytest.fixture
def api(token) -> APIClient:
    return client_with(token)


@pytest.fixture(autouse=True)
def _no_failed_tokens_counted():
    """Failed tokens are counted per address in the shared cache, which outlives a test: each
    test starts with none counted for the addresses tests use."""
    for address in ("127.0.0.1", "127.0.0.9", "127.0.0.77"):
        cache.delete(f"gatekeeper:api-token-failures:{address}")
