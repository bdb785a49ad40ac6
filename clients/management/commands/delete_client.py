from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.services import delete_client, get_client
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "Delete a client with its credentials, permissions and rate limits. Its API keys and "
        "HMAC secrets stop working at once. To stop a client but keep its setup, use "
        "set_client_status instead."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", metavar="NAME_OR_ID", help="Client name (any case) or id.")

    def run(self, *args: Any, **options: Any) -> None:
        client = get_client(options["client"])
        credentials = client.credentials.count()
        delete_client(client, actor=self.actor)
        self.stdout.write(
            self.style.SUCCESS(
                f"{self.did('delete')} client {client} and its {credentials} credential(s)."
            )
        )
