from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.services import get_client
from core.commands import GatekeeperCommand
from permissions.management.arguments import add_permission_arguments
from permissions.services import check_methods, grant
from routes.services import get_route


class Command(GatekeeperCommand):
    help = (
        "Allow a client to call a route with the given methods too: they are added to what the "
        "client holds on that route (--exactly replaces that instead). Each must be configured "
        "on the route; revoke takes methods away."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        add_permission_arguments(parser)
        parser.add_argument(
            "--methods", required=True, help="Comma-separated methods, e.g. GET,POST."
        )
        parser.add_argument(
            "--exactly",
            action="store_true",
            help="Hold exactly these methods on the route, taking away any others.",
        )

    def run(self, *args: Any, **options: Any) -> None:
        client = get_client(options["client"])
        route = get_route(options["domain"], options["pattern"])
        asked = check_methods(route, options["methods"])
        permission = grant(client, route, asked, actor=self.actor, exactly=options["exactly"])
        exactly = " exactly" if options["exactly"] else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{self.did('grant')} {client}{exactly} {', '.join(asked)} on {route} "
                f"(all it holds there: {', '.join(permission.method_list)})"
            )
        )
