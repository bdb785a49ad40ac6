"""config_schema: write the config file's JSON Schema (for editors) from the serializers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from api.config_schema import default_path, render
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "Write the JSON Schema of the config file (default deploy/schema/"
        "gatekeeper-config.schema.json), made from the serializers apply_config and the API "
        "read. Run it after changing them; a test fails while the file is out of date."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="Where to write it ('-': standard output).")

    def run(self, *args: Any, **options: Any) -> None:
        text = render()
        if options["output"] == "-":
            self.stdout.write(text, ending="")
            return
        path = options["output"] or default_path()
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}."))
