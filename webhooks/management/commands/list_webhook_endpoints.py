from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from core.commands import GatekeeperCommand
from webhooks.destinations import display_url
from webhooks.models import Endpoint


class Command(GatekeeperCommand):
    help = "List webhook endpoints: state, URL (without its query), event types, cooldown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print a JSON list.")

    def run(self, *args: Any, **options: Any) -> None:
        rows = [
            {
                "name": endpoint.name,
                "id": endpoint.pk,
                "url": display_url(endpoint.url),
                "active": endpoint.active,
                "disabled_reason": endpoint.disabled_reason,
                "failing_since": endpoint.failing_since,
                "events": endpoint.events,
                "client_ids": endpoint.client_ids,
                "cooldown_seconds": endpoint.cooldown_seconds,
            }
            for endpoint in Endpoint.objects.order_by("name")
        ]
        if options["json"]:
            self.write_json(rows)
            return
        if not rows:
            self.stdout.write("No webhook endpoints.")
        for row in rows:
            state = "active" if row["active"] else f"disabled ({row['disabled_reason']})"
            scope = f"{len(row['client_ids'])} client(s)" if row["client_ids"] else "all clients"
            self.stdout.write(
                f"{row['name']}  {row['url']}  {state}  events={','.join(row['events'])}  "
                f"{scope}  cooldown={row['cooldown_seconds']}s"
            )
