from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.models import Client
from clients.services import get_client, set_client_status
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "Set a client's status. Suspended and revoked clients are denied (client_suspended, "
        "client_revoked) while their credentials and permissions stay in place."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", metavar="NAME_OR_ID", help="Client name (any case) or id.")
        parser.add_argument("status", choices=Client.Status.values, help="The new status.")

    def run(self, *args: Any, **options: Any) -> None:
        client = get_client(options["client"])
        before = client.status
        updated = set_client_status(client, options["status"], actor=self.actor)
        if before == updated.status:
            self.stdout.write(f"{updated} is already {updated.status}.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{self.did('set')} the status of {updated}: {before} -> {updated.status}."
                )
            )
