from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from clients.services import get_client
from core.commands import GatekeeperCommand
from permissions.models import RateLimit
from permissions.services import get_rate_limit, remove_rate_limit, set_rate_limit
from routes.services import get_route


class Command(GatekeeperCommand):
    help = (
        "Set (or with --remove, delete) how many decisions a client may get per window: on "
        "every route together, or with --pattern on one route."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, help="Client name (any case) or id.")
        parser.add_argument("--limit", type=int, help="Decisions allowed per window (>= 1).")
        parser.add_argument(
            "--window",
            required=True,
            help=f"One of {', '.join(RateLimit.Window.values)}.",
        )
        parser.add_argument(
            "--domain", default="*", help="The route's domain, with --pattern (default: *)."
        )
        parser.add_argument(
            "--pattern", help="Limit calls to this route only (default: all routes together)."
        )
        parser.add_argument(
            "--remove", action="store_true", help="Delete the limit instead of setting it."
        )

    def run(self, *args: Any, **options: Any) -> None:
        if options["remove"] == (options["limit"] is not None):
            raise CommandError("Give either --limit or --remove.")
        client = get_client(options["client"])
        route = get_route(options["domain"], options["pattern"]) if options["pattern"] else None
        if options["remove"]:
            rate_limit = get_rate_limit(client, window=options["window"], route=route)
            remove_rate_limit(rate_limit, actor=self.actor)
            self.stdout.write(self.style.SUCCESS(f"{self.did('remove')} {rate_limit}"))
            return
        rate_limit = set_rate_limit(
            client, limit=options["limit"], window=options["window"], route=route, actor=self.actor
        )
        self.stdout.write(self.style.SUCCESS(f"{self.did('set')} {rate_limit}"))
