from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from core.commands import GatekeeperCommand, duration_argument
from webhooks import services
from webhooks.models import Delivery


class Command(GatekeeperCommand):
    help = (
        "Queue deliveries again (same webhook-id, fresh retries), e.g. every failed one to an "
        "endpoint after its outage: redeliver_webhooks ops --since 2d."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", metavar="NAME_OR_ID")
        parser.add_argument(
            "--status",
            choices=Delivery.Status.values,
            default=Delivery.Status.FAILED,
            help="Which deliveries (default: failed).",
        )
        parser.add_argument(
            "--since", type=duration_argument, help="Only those queued within this time, e.g. 1d."
        )

    def run(self, *args: Any, **options: Any) -> None:
        endpoint = services.get_endpoint(options["endpoint"])
        chosen = Delivery.objects.filter(endpoint=endpoint, status=options["status"])
        if options["since"] is not None:
            chosen = chosen.filter(queued_at__gte=timezone.now() - options["since"])
        if options["status"] == Delivery.Status.PENDING:
            raise CommandError("Pending deliveries are queued already.")
        count = services.redeliver(chosen, actor=self.actor)
        self.stdout.write(self.style.SUCCESS(f"{count} deliver(y/ies) to {endpoint.name} queued."))
