"""export_config: write the configuration as the file apply_config reads (design §8)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.commands import GatekeeperCommand
from permissions.configfile.export import export_config
from permissions.configfile.loading import FORMATS, format_of


class Command(GatekeeperCommand):
    help = (
        "Write every route, client, permission and rate limit as a YAML or JSON config file "
        "that apply_config reads back. Client ids are included; credentials are listed by kind "
        "and label only, never with a key or secret. Output is sorted, so exports diff cleanly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="yaml or json (default: from the --output name, else yaml).",
        )
        parser.add_argument("--output", metavar="FILE", help="Write to FILE, not standard output.")

    def run(self, *args: Any, **options: Any) -> None:
        output: str | None = options["output"]
        fmt = options["format"] or (output and format_of(output)) or "yaml"
        text = export_config(fmt)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        self.stdout.write(self.style.SUCCESS(f"Wrote {output} ({fmt})."))
