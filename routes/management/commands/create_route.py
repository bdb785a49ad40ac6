from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.commands import GatekeeperCommand
from core.redaction import quote_short
from routes.models import Auth
from routes.services import create_route


def method_rule(text: str) -> tuple[str, str]:
    """argparse `type=` for METHOD[:AUTH]; the service validates the names."""
    method, _, auth = text.partition(":")
    if not method:
        raise argparse.ArgumentTypeError(f"{quote_short(text)} is not METHOD or METHOD:AUTH")
    return method, auth or Auth.API_KEY.value


def describe_rules(rules: dict[str, str]) -> str:
    if not rules:
        return "no methods: every request is denied"
    return ", ".join(f"{method}:{auth}" for method, auth in rules.items())


class Command(GatekeeperCommand):
    help = (
        "Create a route: a domain and path pattern, and how each HTTP method authenticates. "
        "A method without --method is not configured and is denied. Example: "
        "create_route --pattern '/api/data/*' --service data-api --method GET --method POST:hmac"
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--domain",
            default="*",
            help="api.example.com, *.example.com (also example.com itself) or * (default).",
        )
        parser.add_argument(
            "--pattern",
            required=True,
            help="/api/users/me (exact), /api/users/{id}/orders or /api/users/* (wildcard).",
        )
        parser.add_argument("--service", default="", help="Name of the backend service.")
        parser.add_argument("--description", default="", help="Free text for operators.")
        parser.add_argument(
            "--method",
            dest="methods",
            action="append",
            type=method_rule,
            default=[],
            metavar="METHOD[:AUTH]",
            help=f"Repeatable. AUTH is one of {', '.join(Auth.values)}; api_key if left out.",
        )

    def run(self, *args: Any, **options: Any) -> None:
        methods: dict[str, str] = {}
        for method, auth in options["methods"]:
            if method.upper() in methods:
                raise CommandError(f"--method {method.upper()} is given twice")
            methods[method.upper()] = auth
        route = create_route(
            domain=options["domain"],
            pattern=options["pattern"],
            service_name=options["service"],
            description=options["description"],
            methods=methods,
            actor=self.actor,
        )
        # A dry run's id belongs to a row that is rolled back: do not show it.
        label = str(route) if self.dry_run else f"{route.pk} {route}"
        summary = f"{label} ({describe_rules(route.method_rules())})"
        self.stdout.write(self.style.SUCCESS(f"{self.did('create')} route {summary}"))
