"""Every saved or deleted configuration row bumps the config version in its own transaction,
naming what it touched: a client's entry, or the routes.

Receivers live here, on the decision side, because the admin writes through too many paths
(inlines, bulk deletes, list-editable fields) to cover by hand, and `routes`, `clients` and
`permissions` may not import `authz`. `QuerySet.update` and `bulk_create` send no signals:
code that uses them calls `config_version.bump()` itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from clients.models import Client, Credential
from core import config_version
from permissions.models import Permission, RateLimit
from routes.models import Route, RouteMethod

CONFIG_MODELS = (Route, RouteMethod, Client, Credential, Permission, RateLimit)


ROUTE_MODELS = (Route, RouteMethod)


def _changed(sender: type, *, instance: Any, using: str, **kwargs: Any) -> None:
    if sender in ROUTE_MODELS:
        config_version.bump(using, routes=True)
    elif sender is Client:
        config_version.bump(using, client_id=instance.pk)
    else:
        # Credential, Permission, RateLimit: part of their client's entry.
        config_version.bump(using, client_id=instance.client_id)


def connect() -> None:
    for model in CONFIG_MODELS:
        post_save.connect(_changed, sender=model, dispatch_uid=f"gk-bump-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"gk-bump-delete-{model.__name__}")
