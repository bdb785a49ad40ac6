"""The dashboard's tests use the decision tests' small world (routes, clients, keys)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from authz.tests.conftest import world  # noqa: F401

# Every "view" permission of the apps staff work in, and nothing else.
VIEW_ONLY = [
    "view_client",
    "view_credential",
    "view_route",
    "view_routemethod",
    "view_permission",
    "view_ratelimit",
    "view_auditevent",
    "view_decisionrecord",
]


@pytest.fixture
def viewer(db) -> User:
    user = User.objects.create_user("viewer", password="viewer-password-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=VIEW_ONLY))
    return user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
