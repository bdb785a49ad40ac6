from __future__ import annotations

from django.apps import AppConfig


class AuthzConfig(AppConfig):
    name = "authz"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from authz import invalidation

        invalidation.connect()
