from __future__ import annotations

from django.apps import AppConfig


class RoutesConfig(AppConfig):
    name = "routes"
    verbose_name = "Routes"
