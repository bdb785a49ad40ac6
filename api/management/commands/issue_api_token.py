"""issue_api_token: a new API token for a staff user, printed once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from api.services import issue_token
from core.commands import GatekeeperCommand
from core.redaction import quote_short


class Command(GatekeeperCommand):
    help = (
        "Issue an API token for a staff user and print it once (Gatekeeper keeps only its "
        "digest). The token acts with that user's permissions; --read-only limits it to reads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="An active staff user.")
        parser.add_argument("--label", default="", help="What the token is for.")
        parser.add_argument("--read-only", action="store_true", help="Only reads, no change.")
        parser.add_argument(
            "--days", type=int, help="Valid for this many days (default GATEKEEPER_API_TOKEN_DAYS)."
        )

    def run(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        try:
            user = users.get_by_natural_key(options["username"])
        except users.model.DoesNotExist:
            raise CommandError(f"No user {quote_short(options['username'])}.") from None
        days = options["days"]
        issued = issue_token(
            user,
            label=options["label"],
            read_only=options["read_only"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            actor=self.actor,
        )
        token = issued.token
        scope = "read-only" if token.read_only else "read-write"
        self.stdout.write(
            self.style.WARNING("The token is shown only now and cannot be shown again.")
        )
        expires = f"{token.expires_at:%Y-%m-%d}"
        self.stdout.write(f"{token.prefix} for {user.get_username()} ({scope}, expires {expires}):")
        self.stdout.write(issued.plaintext)
