from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.services import get_client
from core.commands import GatekeeperCommand
from permissions.management.arguments import add_permission_arguments
from permissions.services import revoke
from routes.patterns import normalize_methods
from routes.services import get_route


class Command(GatekeeperCommand):
    help = (
        "Take methods away from a client on a route: all of them (the permission is deleted) "
        "or only those given with --methods."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        add_permission_arguments(parser)
        parser.add_argument(
            "--methods",
            help="Comma-separated methods to take away, e.g. POST (default: all of them).",
        )

    def run(self, *args: Any, **options: Any) -> None:
        client = get_client(options["client"])
        route = get_route(options["domain"], options["pattern"])
        left = revoke(client, route, methods=options["methods"], actor=self.actor)
        if left is None:
            message = f"{self.did('revoke')} every method of {client} on {route}"
        else:
            taken = ", ".join(normalize_methods(options["methods"]))
            kept = ", ".join(left.method_list)
            message = f"{self.did('revoke')} {taken} of {client} on {route} ({kept} left)"
        self.stdout.write(self.style.SUCCESS(message))
