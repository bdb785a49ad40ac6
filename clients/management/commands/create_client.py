from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from clients.management.commands.issue_credential import read_stdin_value, report_issued
from clients.models import Client
from clients.services import create_client, issue_api_key, issue_hmac_secret
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "Create a client. With --api-key and/or --hmac, also issue credentials and print each "
        "new secret once. Everything happens in one transaction: if a credential fails, the "
        "client is not created either."
    )
    supports_dry_run = True
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--name", required=True, help="Unique name: letters, digits, '.', '_' and '-'."
        )
        parser.add_argument("--description", default="", help="Free text for operators.")
        parser.add_argument(
            "--status",
            choices=Client.Status.values,
            default=Client.Status.ACTIVE,
            help="Initial status (default: active).",
        )
        parser.add_argument(
            "--id",
            dest="client_id",
            type=uuid.UUID,
            help="Keep this client id (HMAC clients sign with it); default: a new UUID.",
        )
        parser.add_argument("--api-key", action="store_true", help="Issue a new API key.")
        parser.add_argument("--hmac", action="store_true", help="Issue a new HMAC secret.")
        imports = parser.add_mutually_exclusive_group()
        imports.add_argument(
            "--import-key-stdin",
            action="store_true",
            help="Also import a legacy API key read from stdin.",
        )
        imports.add_argument(
            "--import-secret-stdin",
            action="store_true",
            help="Also import an existing HMAC secret read from stdin.",
        )

    def run(self, *args: Any, **options: Any) -> None:
        key = read_stdin_value(options, "API key") if options["import_key_stdin"] else None
        secret = (
            read_stdin_value(options, "HMAC secret") if options["import_secret_stdin"] else None
        )
        show = not options["dry_run"]
        with transaction.atomic():
            client = create_client(
                name=options["name"],
                status=options["status"],
                description=options["description"],
                client_id=options["client_id"],
                actor=self.actor,
            )
            generated = []
            if options["api_key"]:
                generated.append(issue_api_key(client, actor=self.actor))
            if options["hmac"]:
                generated.append(issue_hmac_secret(client, actor=self.actor))
            imported = []
            if key is not None:
                imported.append(issue_api_key(client, actor=self.actor, plaintext=key))
            if secret is not None:
                imported.append(issue_hmac_secret(client, actor=self.actor, secret=secret))
        self.stdout.write(
            self.style.SUCCESS(
                f"{self.did('create')} client {client} (id {client.pk}, {client.status})."
            )
        )
        for issued in generated:
            report_issued(self, issued, show_secret=show)
        for issued in imported:
            report_issued(self, issued, show_secret=False, verb="import")
