from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from core.commands import GatekeeperCommand, duration_argument
from webhooks import services
from webhooks.management.options import report_secret


class Command(GatekeeperCommand):
    help = (
        "Give a webhook endpoint a new signing secret and print it once. The old secret "
        "keeps signing beside it for the grace period (each request carries both "
        "signatures), so the receiver can switch without missing a webhook."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", metavar="NAME_OR_ID")
        parser.add_argument(
            "--grace",
            type=duration_argument,
            help="How long the old secret keeps signing, e.g. 24h; 0s stops it now "
            "(default: GATEKEEPER_ROTATION_GRACE).",
        )

    def run(self, *args: Any, **options: Any) -> None:
        grace = options["grace"]
        if grace is None:
            grace = timedelta(seconds=settings.GATEKEEPER_ROTATION_GRACE)
        endpoint = services.get_endpoint(options["endpoint"])
        rotated = services.rotate_secret(endpoint, grace=grace, actor=self.actor)
        if options["dry_run"]:
            self.stdout.write(f"Would rotate the signing secret of {endpoint.name}.")
            return
        report_secret(self, rotated, "Rotated the signing secret of")
