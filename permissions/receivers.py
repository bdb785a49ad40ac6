"""Keeping grants inside their routes: routes may not import permissions, so it signals us."""

from __future__ import annotations

from typing import Any

from core.actor import Actor
from permissions import services
from routes.models import Route
from routes.signals import route_methods_removed


def narrow_on_methods_removed(
    sender: type, *, route: Route, removed: tuple[str, ...], actor: Actor, **kwargs: Any
) -> None:
    services.narrow_route_permissions(route, removed, actor=actor)


def connect() -> None:
    route_methods_removed.connect(
        narrow_on_methods_removed, dispatch_uid="permissions-narrow-on-methods-removed"
    )
