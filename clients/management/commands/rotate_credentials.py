from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from clients.management.commands.issue_credential import report_issued
from clients.models import Credential
from clients.services import get_client, rotate_credentials
from core.commands import GatekeeperCommand, duration_argument


class Command(GatekeeperCommand):
    help = (
        "Issue a new credential of one kind to a client and print it once. The client's other "
        "live credentials of that kind keep working for the grace period, so callers can "
        "switch over, and then stop."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", metavar="NAME_OR_ID", help="Client name (any case) or id.")
        parser.add_argument(
            "--kind",
            choices=Credential.Kind.values,
            default=Credential.Kind.API_KEY,
            help="Which kind to rotate (default: api_key).",
        )
        parser.add_argument(
            "--grace",
            type=duration_argument,
            help="How long the old credentials keep working, e.g. 24h "
            "(default: GATEKEEPER_ROTATION_GRACE, 24h unless configured).",
        )

    def run(self, *args: Any, **options: Any) -> None:
        grace = options["grace"]
        if grace is None:
            grace = timedelta(seconds=settings.GATEKEEPER_ROTATION_GRACE)
        client = get_client(options["client"])
        issued = rotate_credentials(client, kind=options["kind"], grace=grace, actor=self.actor)
        report_issued(self, issued, show_secret=not options["dry_run"])
        if not issued.retiring:
            self.stdout.write("There were no older live credentials of this kind.")
