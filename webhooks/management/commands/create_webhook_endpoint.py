from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from core.commands import GatekeeperCommand
from webhooks.management.options import add_endpoint_arguments, client_ids, report_secret
from webhooks.models import DEFAULT_COOLDOWN_SECONDS
from webhooks.services import create_endpoint


class Command(GatekeeperCommand):
    help = (
        "Add a webhook endpoint and print its new signing secret once (whsec_...; receivers "
        "verify with any Standard Webhooks library). The URL must be public unless "
        "GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS allows its network."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A name for commands and the admin (unique).")
        parser.add_argument("url", help="http:// or https:// URL that receives the POSTs.")
        add_endpoint_arguments(parser, creating=True)

    def run(self, *args: Any, **options: Any) -> None:
        created = create_endpoint(
            name=options["name"],
            url=options["url"],
            events=options["events"],
            client_ids=client_ids(options["clients"]) or [],
            cooldown_seconds=options["cooldown"] or DEFAULT_COOLDOWN_SECONDS,
            description=options["description"] or "",
            actor=self.actor,
        )
        if options["dry_run"]:
            self.stdout.write(f"Would add webhook endpoint {created.endpoint.name}.")
            return
        report_secret(self, created, "Added")
