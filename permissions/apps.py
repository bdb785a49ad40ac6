from __future__ import annotations

from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Permissions and rate limits"

    def ready(self) -> None:
        from permissions import receivers

        receivers.connect()
