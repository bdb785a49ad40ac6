"""deliver_webhooks: the webhook worker (`deploy/serve.sh webhooks`, and `make run`)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from webhooks.worker import Config, Worker


class Command(BaseCommand):
    help = (
        "Send due webhook deliveries until stopped (SIGTERM or Ctrl-C ends it after the "
        "attempts in flight). Several workers may run at once on PostgreSQL; each takes "
        "different deliveries. Settings: GATEKEEPER_WEBHOOK_* (README, Webhooks)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Send what is due now, then exit (retries due later are left for later).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        config = Config.from_settings()
        self.stdout.write(
            f"Delivering webhooks ({config.concurrency} at a time, timeout {config.timeout:g}s)."
        )
        Worker(config).run(stop, once=options["once"])
        self.stdout.write("Webhook worker stopped.")
