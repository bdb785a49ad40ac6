"""What every Gatekeeper management command shares: errors, dry runs, JSON output, actor.

Commands stay thin (style rule 18): parse flags, call one service, print one styled line.
This base class turns the services' domain errors into a one-line `CommandError` (exit 1),
so no command repeats that translation.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.actor import Actor
from core.durations import parse_duration
from core.errors import GatekeeperError
from core.redaction import quote_short

# An option name like --dry-runn is safe to repeat; any other unrecognized word may be a key.
_OPTION_NAME = re.compile(r"--?[a-z][a-z0-9-]*")
# Past tenses that do not follow the rules of `_past`.
_IRREGULAR_PAST = {"set": "set", "leave": "left"}


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


def _past(verb: str) -> str:
    if verb in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[verb]
    if verb.endswith("e"):
        return f"{verb}d"
    if verb.endswith("y"):
        return f"{verb[:-1]}ied"
    return f"{verb}ed"


def duration_argument(text: str):
    """argparse `type=` for durations; argparse reports the ValueError as a usage error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _QuietParser(CommandParser):
    """A CommandParser whose usage errors never repeat a value a credential could be.

    argparse quotes every invalid choice, badly typed value and unrecognized word in full, and
    a key pasted into the wrong argument would come back in the error (and in CI logs).
    """

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            message = f"invalid choice: {quote_short(value)} (choose from {choices})"
            raise argparse.ArgumentError(action, message)

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError as exc:
            # argparse's own "invalid int value: '...'"; our type functions' messages are kept.
            echoed = f": {arg_string!r}"
            if not exc.message.endswith(echoed):
                raise
            message = f"{exc.message.removesuffix(echoed)}: {quote_short(arg_string)}"
            raise argparse.ArgumentError(action, message) from None

    def error(self, message: str) -> NoReturn:
        unrecognized = "unrecognized arguments: "
        if message.startswith(unrecognized):
            words = message.removeprefix(unrecognized).split(" ")
            shown = [w if _OPTION_NAME.fullmatch(w) else quote_short(w) for w in words]
            message = unrecognized + ", ".join(shown)
        super().error(message)


class GatekeeperCommand(BaseCommand):
    """Base for commands that call services. Subclasses implement `run(**options)`."""

    supports_dry_run = False
    dry_run = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # BaseCommand builds a CommandParser and offers no hook for the class; _QuietParser only
        # overrides methods, so switching the class of the built parser is safe.
        parser.__class__ = _QuietParser
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
        self.dry_run = bool(options.get("dry_run"))
        try:
            if self.dry_run:
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

    def did(self, verb: str) -> str:
        """How a result line starts: `did("delete")` is "Deleted", or "Would delete" in a dry
        run. Every command phrases what it changed through this, so that a dry run (which runs
        the real services and rolls back) never claims a change it did not keep."""
        return f"Would {verb}" if self.dry_run else _past(verb).capitalize()

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
