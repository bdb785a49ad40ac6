from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks: last in the import order (it may use every app but the dashboard; none
    imports it). It hears configuration changes through the audit trail and decisions
    through `authz.observers`."""

    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from authz import observers
        from webhooks import checks, decisions, receivers  # noqa: F401 - checks register

        receivers.connect()
        observers.register(decisions.observe, start=decisions.start, stop=decisions.stop)
