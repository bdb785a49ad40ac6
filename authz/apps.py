from __future__ import annotations

from django.apps import AppConfig


class AuthzConfig(AppConfig):
    name = "authz"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from authz import checks, invalidation  # noqa: F401 - checks register on import

        invalidation.connect()
