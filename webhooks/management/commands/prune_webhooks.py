from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from core.commands import GatekeeperCommand, duration_argument
from core.durations import format_duration
from webhooks import services


class Command(GatekeeperCommand):
    help = (
        "Delete the delivery log older than a given age: deliveries that were delivered or "
        "failed, the events left without any, and cooldowns long over. Pending deliveries "
        "stay however old. Deletes in batches; --dry-run counts. Run it daily from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=duration_argument,
            default=timedelta(days=30),
            help="Age of what to delete, e.g. 30d (default: 30d).",
        )
        # Counting, not deleting and rolling back: a large log would cost as much either way.
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def run(self, *args: Any, **options: Any) -> None:
        older_than: timedelta = options["older_than"]
        if older_than <= timedelta(0):
            raise CommandError("--older-than must be longer than 0s.")
        before = timezone.now() - older_than
        if options["dry_run"]:
            counts = {kind: rows.count() for kind, rows in services.prunable(before).items()}
            verb = "Would delete"
        else:
            counts = services.prune(before=before, actor=self.actor)
            verb = "Deleted"
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {summary} older than {format_duration(older_than)}.")
        )
