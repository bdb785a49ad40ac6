from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.services import get_credential, revoke_credential
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "Revoke one credential now. Name it by its prefix as the admin and list commands show "
        "it (e.g. gk_ab12cd34), or by its id when a prefix is shared."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--prefix", help="The credential's display prefix.")
        which.add_argument("--id", dest="pk", type=int, help="The credential's id.")

    def run(self, *args: Any, **options: Any) -> None:
        credential = get_credential(prefix=options["prefix"], pk=options["pk"])
        revoked = revoke_credential(credential, actor=self.actor)
        self.stdout.write(
            self.style.SUCCESS(
                f"{self.did('revoke')} {revoked} (id {revoked.pk}) of {revoked.client}."
            )
        )
