from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from clients.models import Credential
from clients.services import IssuedSecret, get_client, issue_api_key, issue_hmac_secret
from core.commands import GatekeeperCommand, duration_argument


def read_stdin_value(options: dict[str, Any], what: str) -> str:
    """A key or secret from stdin, so it never sits in shell history; prompts without echo on
    a terminal. Only the trailing line break is removed: the value itself is kept exactly."""
    stream = options.get("stdin") or sys.stdin
    if stream.isatty():
        return getpass.getpass(f"{what}: ")
    return stream.read().rstrip("\r\n")


def report_issued(
    command: GatekeeperCommand, issued: IssuedSecret, *, show_secret: bool, verb: str = "issue"
) -> None:
    """One line about the credential, then the plaintext once with a warning when shown."""
    credential = issued.credential
    expires = credential.expires_at.isoformat() if credential.expires_at else "never"
    command.stdout.write(
        command.style.SUCCESS(
            f"{command.did(verb)} {credential.get_kind_display()} {credential.prefix} for "
            f"{credential.client} (credential id {credential.pk}, expires {expires})."
        )
    )
    for warning in issued.warnings:
        command.stdout.write(command.style.WARNING(warning))
    if show_secret:
        command.stdout.write(issued.plaintext)
        command.stdout.write(
            command.style.WARNING("Store this secret now: it will not be shown again.")
        )
    for old in issued.retiring:
        command.stdout.write(
            f"{command.did('leave')} the older {old.get_kind_display()} {old.prefix} working "
            f"until {old.expires_at.isoformat()}."
        )


class Command(GatekeeperCommand):
    help = (
        "Issue an API key or HMAC secret to a client and print it once. With "
        "--import-key-stdin / --import-secret-stdin, store an existing value read from stdin "
        "instead (so it never sits in shell history); imported values are not printed."
    )
    supports_dry_run = True
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", metavar="NAME_OR_ID", help="Client name (any case) or id.")
        parser.add_argument(
            "--kind", required=True, choices=Credential.Kind.values, help="What to issue."
        )
        parser.add_argument("--label", default="", help="A note for operators, e.g. 'ci'.")
        parser.add_argument(
            "--expires-in",
            type=duration_argument,
            help="Stop working after this long, e.g. 90d (default: never).",
        )
        imports = parser.add_mutually_exclusive_group()
        imports.add_argument(
            "--import-key-stdin",
            action="store_true",
            help="Import a legacy API key read from stdin (any printable shape, 8+ characters).",
        )
        imports.add_argument(
            "--import-secret-stdin",
            action="store_true",
            help="Import an existing HMAC secret read from stdin.",
        )

    def run(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if options["import_key_stdin"] and kind != Credential.Kind.API_KEY:
            raise CommandError("--import-key-stdin needs --kind api_key.")
        if options["import_secret_stdin"] and kind != Credential.Kind.HMAC:
            raise CommandError("--import-secret-stdin needs --kind hmac.")
        imported = None
        if options["import_key_stdin"] or options["import_secret_stdin"]:
            imported = read_stdin_value(options, "Value to import")
        client = get_client(options["client"])
        expires_at = timezone.now() + options["expires_in"] if options["expires_in"] else None
        common = {"actor": self.actor, "label": options["label"], "expires_at": expires_at}
        if kind == Credential.Kind.API_KEY:
            issued = issue_api_key(client, plaintext=imported, **common)
        else:
            issued = issue_hmac_secret(client, secret=imported, **common)
        report_issued(
            self,
            issued,
            show_secret=imported is None and not options["dry_run"],
            verb="import" if imported is not None else "issue",
        )
