from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.services import get_client
from core.commands import GatekeeperCommand
from permissions.management.arguments import add_permission_arguments
from permissions.services import grant
from routes.services import get_route


class Command(GatekeeperCommand):
    help = (
        "Allow a client to call a route with the given methods. The methods replace whatever "
        "the client was granted on that route before; each must be configured on the route."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        add_permission_arguments(parser)
        parser.add_argument(
            "--methods", required=True, help="Comma-separated methods, e.g. GET,POST."
        )

    def run(self, *args: Any, **options: Any) -> None:
        client = get_client(options["client"])
        route = get_route(options["domain"], options["pattern"])
        permission = grant(client, route, options["methods"], actor=self.actor)
        methods = ", ".join(permission.method_list)
        self.stdout.write(self.style.SUCCESS(f"Granted {client} {methods} on {route}"))
