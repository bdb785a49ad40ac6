"""What every Gatekeeper management command shares: errors, dry runs, JSON output, actor.

Commands stay thin (style rule 18): parse flags, call one service, print one styled line.
This base class turns the services' domain errors into a one-line `CommandError` (exit 1),
so no command repeats that translation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.actor import Actor
from core.durations import parse_duration
from core.errors import GatekeeperError


class _DryRunRollback(Exception):
    """Raised to undo a dry run's writes."""


def validation_message(error: ValidationError) -> str:
    """One line from a ValidationError: `field: message; other: message`."""
    if hasattr(error, "error_dict"):
        parts = []
        for field, errors in error.message_dict.items():
            label = "" if field == "__all__" else f"{field}: "
            parts.extend(f"{label}{message}" for message in errors)
        return "; ".join(parts)
    return "; ".join(error.messages)


def duration_argument(text: str):
    """argparse `type=` for durations; argparse reports the ValueError as a usage error."""
    import argparse

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class GatekeeperCommand(BaseCommand):
    """Base for commands that call services. Subclasses implement `run(**options)`."""

    supports_dry_run = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if self.supports_dry_run:
            parser.add_argument(
                "--dry-run",
                action="store_true",
                help="Show what would change and change nothing.",
            )
        return parser

    @property
    def actor(self) -> Actor:
        return Actor.cli(self.__module__.rsplit(".", 1)[-1])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options.get("dry_run"):
                with self._rolled_back():
                    self.run(*args, **options)
                self.stdout.write(self.style.WARNING("Dry run: nothing was changed."))
            else:
                self.run(*args, **options)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        except GatekeeperError as exc:
            raise CommandError(str(exc)) from exc

    def run(self, *args: Any, **options: Any) -> None:
        raise NotImplementedError

    @contextmanager
    def _rolled_back(self) -> Iterator[None]:
        """Run the real service inside a transaction and roll it back: the dry run shows
        exactly what the real run would do, and post-commit work (version bumps) never runs."""
        try:
            with transaction.atomic():
                yield
                raise _DryRunRollback
        except _DryRunRollback:
            pass

    def write_json(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str))
