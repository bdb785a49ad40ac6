from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from core.commands import GatekeeperCommand
from webhooks import delivery, services


class Command(GatekeeperCommand):
    help = (
        "Send a webhook.test event to one endpoint now and say how the receiver answered "
        "(exit status 1 when it did not take it). The attempt is in the delivery log; "
        "failed, it is retried by the worker like any other."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", metavar="NAME_OR_ID")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Only queue it for the worker (deliver_webhooks) instead of sending it here.",
        )

    def run(self, *args: Any, **options: Any) -> None:
        endpoint = services.get_endpoint(options["endpoint"])
        queued = services.send_test(endpoint, actor=self.actor)
        message_id = queued.event.message_id
        if options["queue"]:
            self.stdout.write(f"Queued {message_id} for {endpoint.name}.")
            return
        claimed = delivery.claim_one(queued)
        if claimed is None:
            self.stdout.write(f"Queued {message_id}; a worker is sending it already.")
            return
        attempt = delivery.deliver(
            claimed,
            timeout=settings.GATEKEEPER_WEBHOOK_TIMEOUT,
            schedule=settings.GATEKEEPER_WEBHOOK_RETRY_SCHEDULE,
        )
        if attempt is None:
            raise CommandError(f"{endpoint.name} was disabled meanwhile; nothing was sent.")
        took = f" in {attempt.seconds * 1000:.0f} ms" if attempt.seconds is not None else ""
        if attempt.delivered:
            self.stdout.write(
                self.style.SUCCESS(f"{endpoint.name} took {message_id}: {attempt.status}{took}.")
            )
            return
        raise CommandError(
            f"{endpoint.name} did not take {message_id}: {attempt.error or attempt.outcome}"
            f"{took}. The worker retries it."
        )
