from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients and credentials"

    def ready(self) -> None:
        from clients import checks  # noqa: F401 - checks register on import
