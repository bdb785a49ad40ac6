from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from core.commands import GatekeeperCommand
from webhooks import services


class Command(GatekeeperCommand):
    help = "Delete a webhook endpoint and its delivery log (nothing more is sent to it)."
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", metavar="NAME_OR_ID")

    def run(self, *args: Any, **options: Any) -> None:
        endpoint = services.get_endpoint(options["endpoint"])
        services.delete_endpoint(endpoint, actor=self.actor)
        self.stdout.write(self.style.SUCCESS(f"Deleted webhook endpoint {endpoint.name}."))
