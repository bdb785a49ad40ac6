"""apply_config: make the database match a declarative config file (design §8)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.checks import Tags
from django.core.management.base import CommandError, CommandParser

from core.commands import GatekeeperCommand
from core.progress import Progress
from permissions.configfile.apply import Applied, apply_config
from permissions.configfile.loading import FORMATS, few_collections, format_of
from permissions.configfile.plan import Op
from permissions.configfile.schema import parse
from permissions.configfile.spec import ConfigError

# Exit status for a file with problems (1 is any other failure), so scripts can tell them apart.
INVALID_FILE = 2


class Command(GatekeeperCommand):
    help = (
        "Make the database match a YAML or JSON config file: create and update the routes, "
        "clients, credentials, permissions and rate limits it names. Objects it does not name "
        "are left alone, unless --prune is given; then the credentials a client entry lists are "
        "all it keeps, and its other live credentials are revoked. The file is "
        "checked in full first and every problem is listed (exit status 2). The changes are "
        "applied in one transaction: all of them or none. Credentials the file lists without a "
        "value are generated once and printed once."
    )
    supports_dry_run = True
    # The checks that bear on a data command (keys for secrets at rest, models, the shared
    # cache); not the admin's or the URLconf's, which cost a tenth of an unchanged
    # 10,000-route file's run and which `manage.py check` and every server start still run.
    requires_system_checks = [Tags.security, Tags.models, Tags.caches, Tags.database]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .yaml, .yml or .json file, or - for standard input.")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="The file's format (default: from its name; required when reading from -).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Check the file against the database and change nothing: list every problem "
            "(exit status 2) or say what would change (exit status 0). For CI pipelines.",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Also delete the routes, clients, permissions and rate limits the file does "
            "not name, and revoke the live credentials of its clients that it does not list.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # A check is a dry run that says only whether the file would apply.
        self.check_only = bool(options.get("check"))
        if self.check_only:
            options["dry_run"] = True
        super().handle(*args, **options)

    def run(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        fmt = options["format"] or format_of(path)
        if fmt is None:
            raise CommandError(f"Cannot tell the format of {path!r}: pass --format yaml or json.")
        try:
            with few_collections():
                config, issues = parse(self.read(path), fmt)
            with Progress(self.stderr) as progress, few_collections():
                applied = apply_config(
                    config, issues, prune=options["prune"], actor=self.actor, progress=progress
                )
        except ConfigError as exc:
            count = len(exc.issues)
            problems = f"{count} problem" if count == 1 else f"{count} problems"
            lines = "\n".join(f"  {issue}" for issue in exc.issues)
            raise CommandError(
                f"{path}: {problems}; nothing was changed.\n{lines}",
                returncode=INVALID_FILE,
            ) from exc
        self.report(applied)

    def read(self, path: str) -> str:
        if path == "-":
            return sys.stdin.read()
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"Cannot read {path}: it is not UTF-8 text.") from exc

    def report(self, applied: Applied) -> None:
        plan = applied.plan
        if self.check_only:
            self.stdout.write(
                f"OK: the file applies cleanly ({plan.count(Op.CREATE)} to create, "
                f"{plan.count(Op.UPDATE)} to update, {plan.count(Op.DELETE)} to delete, "
                f"{plan.unchanged} unchanged)."
            )
            return
        styles = {Op.CREATE: self.style.SUCCESS, Op.UPDATE: self.style.WARNING}
        for change in plan.changes:
            self.stdout.write(str(change), styles.get(change.op, self.style.ERROR))
        if plan.changes:
            self.stdout.write(
                f"{self.did('apply')}: {plan.count(Op.CREATE)} created, "
                f"{plan.count(Op.UPDATE)} updated, {plan.count(Op.DELETE)} deleted, "
                f"{plan.unchanged} unchanged"
            )
        else:
            self.stdout.write("No changes.")
        if plan.left_alone:
            self.stdout.write(
                f"{self.did('leave')} alone {plan.left_alone} object(s) the file does not name "
                "(--prune deletes them)."
            )
        for warning in applied.warnings:
            self.stdout.write(self.style.WARNING(warning))
        if applied.generated and not self.dry_run:
            self.stdout.write(
                self.style.WARNING(
                    "Generated credentials: each secret below is shown only now and cannot be "
                    "shown again. Store them safely."
                )
            )
            for secret in applied.generated:
                label = f" [{secret.label}]" if secret.label else ""
                self.stdout.write(
                    f"  {secret.client} (id {secret.client_id}) {secret.kind}{label}: "
                    f"{secret.plaintext}"
                )
