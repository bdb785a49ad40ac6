from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Model
from django.utils import timezone

from audit.models import AuditEvent, DecisionRecord
from audit.services import record
from core.commands import GatekeeperCommand, duration_argument
from core.durations import format_duration

TRAILS: dict[str, type[Model]] = {"decisions": DecisionRecord, "changes": AuditEvent}


class Command(GatekeeperCommand):
    help = (
        "Delete audit rows older than a given age: audited decisions and configuration "
        "changes (both unless --only says which). Deletes in batches, so a large trail never "
        "holds a long lock; --dry-run counts what would go. Run it daily from cron."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=duration_argument,
            default=timedelta(days=30),
            help="Age of the rows to delete, e.g. 30d, 12w (default: 30d).",
        )
        parser.add_argument(
            "--only",
            choices=sorted(TRAILS),
            help="Prune only the decisions or only the configuration changes.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Rows deleted per statement (default: 5000).",
        )

    def run(self, *args: Any, **options: Any) -> None:
        older_than: timedelta = options["older_than"]
        batch_size: int = options["batch_size"]
        if older_than <= timedelta(0):
            raise CommandError("--older-than must be longer than 0s.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        cutoff = timezone.now() - older_than
        trails = [options["only"]] if options["only"] else sorted(TRAILS)
        # A dry run only counts: deleting and rolling back a large trail would cost as much
        # as the real thing.
        prune = self._count if options["dry_run"] else self._delete
        deleted = {trail: prune(trail, cutoff, batch_size) for trail in trails}
        summary = ", ".join(f"{count} {trail}" for trail, count in deleted.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"{self.did('delete')} {summary} older than {format_duration(older_than)} "
                f"(before {cutoff:%Y-%m-%d %H:%M:%S %Z})."
            )
        )
        if any(deleted.values()) and not options["dry_run"]:
            record(
                self.actor,
                "audit.pruned",
                object_type="audit",
                detail={
                    "older_than": format_duration(older_than),
                    "cutoff": cutoff.isoformat(),
                    "deleted": deleted,
                },
            )

    def _count(self, trail: str, cutoff: datetime, batch_size: int) -> int:
        return TRAILS[trail].objects.filter(time__lt=cutoff).count()

    def _delete(self, trail: str, cutoff: datetime, batch_size: int) -> int:
        model = TRAILS[trail]
        old = model.objects.filter(time__lt=cutoff).order_by()
        total = 0
        while ids := list(old.values_list("pk", flat=True)[:batch_size]):
            # Each batch commits on its own: writers of new rows are never held up for long.
            total += model.objects.filter(pk__in=ids).delete()[0]
            self.stdout.write(f"{trail}: deleted {total}…")
        return total
