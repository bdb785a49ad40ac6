from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.commands import GatekeeperCommand
from webhooks import services
from webhooks.management.options import add_endpoint_arguments, client_ids


class Command(GatekeeperCommand):
    help = (
        "Change a webhook endpoint: its URL, event types, client filter, cooldown or "
        "description; --disable stops sending to it, --enable sends again (its waiting "
        "deliveries resume)."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", metavar="NAME_OR_ID")
        parser.add_argument("--name", help="A new name.")
        parser.add_argument("--url")
        add_endpoint_arguments(parser, creating=False)
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--enable", action="store_true")
        state.add_argument("--disable", action="store_true")
        parser.add_argument("--reason", default="", help="Why it is disabled (with --disable).")

    def run(self, *args: Any, **options: Any) -> None:
        if options["clients"] and options["all_clients"]:
            raise CommandError("Give --client or --all-clients, not both.")
        endpoint = services.get_endpoint(options["endpoint"])
        clients = [] if options["all_clients"] else client_ids(options["clients"])
        endpoint = services.update_endpoint(
            endpoint,
            actor=self.actor,
            name=options["name"],
            url=options["url"],
            events=options["events"],
            client_ids=clients,
            cooldown_seconds=options["cooldown"],
            description=options["description"],
        )
        if options["disable"]:
            reason = options["reason"] or f"Disabled by {self.actor}."
            endpoint = services.disable_endpoint(endpoint, reason=reason, actor=self.actor)
        elif options["enable"]:
            endpoint = services.enable_endpoint(endpoint, actor=self.actor)
        state = "active" if endpoint.active else "disabled"
        self.stdout.write(self.style.SUCCESS(f"Webhook endpoint {endpoint.name} is {state}."))
