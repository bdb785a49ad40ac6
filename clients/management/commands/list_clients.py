from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.models import Client
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "List clients with their id, status and how many live API keys and HMAC secrets each has."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status", choices=Client.Status.values, help="Only clients with this status."
        )
        parser.add_argument("--json", action="store_true", help="Print a JSON list.")

    def run(self, *args: Any, **options: Any) -> None:
        clients = Client.objects.with_live_counts()
        if options["status"]:
            clients = clients.filter(status=options["status"])
        rows = [
            {
                "name": client.name,
                "id": str(client.pk),
                "status": client.status,
                "live_api_keys": client.live_api_keys,
                "live_hmac_secrets": client.live_hmac_secrets,
            }
            for client in clients
        ]
        if options["json"]:
            self.write_json(rows)
            return
        if not rows:
            self.stdout.write("No clients.")
        for row in rows:
            self.stdout.write(
                f"{row['name']}  {row['id']}  {row['status']}  "
                f"api_keys={row['live_api_keys']}  hmac={row['live_hmac_secrets']}"
            )
