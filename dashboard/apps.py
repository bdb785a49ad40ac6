from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The admin as the staff's dashboard: overview, access tester, client and route pages.

    Last in the import order, so it may use every other app (it is an adapter: its views call
    the services and the engine, and hold no business rule of their own).
    """

    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from dashboard import login_guard

        login_guard.connect()
