"""Run one request through the decision engine and print why it got its answer."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from authz.build import build_snapshot
from authz.engine import RequestFacts
from authz.explain import Explanation, HeaderError, Outcome, explain, read_headers
from authz.runtime import get_runtime
from core.commands import GatekeeperCommand

_WINDOWS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


class Command(GatekeeperCommand):
    help = (
        "Explain the decision for one request: the normalised host and path, every domain "
        "entry that applies and what it matched, the chosen route, the method rule, the "
        "client, the permission, the rate limit that would apply, and the final reason. "
        "Reads the current configuration from the database; changes nothing (no HMAC nonce "
        "is consumed, no rate limit counted). A key given with --header is visible to other "
        "users in `ps` and stays in your shell history: pass credentials with "
        "--headers-file FILE, or --headers-file - to read them from standard input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--method", default="GET", help="HTTP method, as sent (case matters).")
        parser.add_argument("--host", required=True, help="Host, e.g. api.example.com.")
        parser.add_argument("--uri", required=True, help="Raw request target, e.g. '/api/x?y=1'.")
        parser.add_argument(
            "--header",
            action="append",
            default=[],
            metavar="'NAME: VALUE'",
            help="A request header (repeatable): Authorization or X-API-Key. Shows the value "
            "in `ps` and shell history; prefer --headers-file for keys.",
        )
        parser.add_argument(
            "--headers-file",
            metavar="PATH",
            help="Read headers from a file, one 'Name: value' a line ('-': standard input), "
            "so a key never appears on the command line.",
        )
        parser.add_argument("--body", default="", help="The request body (for HMAC signatures).")

    def run(self, *args: Any, **options: Any) -> None:
        lines = list(options["header"])
        if options["headers_file"]:
            lines.extend(_read_header_lines(options["headers_file"]))
        headers = parse_headers(lines)
        facts = RequestFacts(
            method=options["method"],
            host=options["host"],
            target=options["uri"],
            authorization=headers.get("authorization"),
            api_key_header=headers.get("x-api-key"),
            body=options["body"].encode(),
        )
        result = explain(
            facts, build_snapshot(version=None), time.time(), config=get_runtime().config
        )
        for line in describe(result):
            self.stdout.write(line)
        style = self.style.SUCCESS if result.allowed else self.style.ERROR
        detail = f" ({result.detail})" if result.detail else ""
        self.stdout.write(style(f"decision      {result.status} {result.reason}{detail}"))


def _read_header_lines(path: str) -> list[str]:
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(
                f"--headers-file: cannot read {path}: {type(exc).__name__}"
            ) from None
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def parse_headers(raw_headers: list[str]) -> dict[str, str]:
    try:
        return read_headers(raw_headers)
    except HeaderError as exc:
        raise CommandError(str(exc)) from None


def describe(result: Explanation) -> list[str]:
    """The explanation as aligned lines, every step but the final decision."""
    if result.refused is not None:
        return [f"normalise     refused: {result.refused}"]
    lines = [f"normalise     host {result.host}  path {result.path}"]
    lines.append(f"domains       {', '.join(result.domains) or 'none applies to this host'}")
    chosen = next((c for c in result.candidates if c.outcome is Outcome.CHOSEN), None)
    for candidate in result.candidates:
        verdict = f"route {candidate.route.id} {candidate.route}"
        if candidate.outcome is Outcome.SHADOWED_BY_DOMAIN and chosen is not None:
            verdict += f"  (shadowed by route {chosen.route.id}, a more specific domain)"
        elif candidate.outcome is Outcome.OUTRANKED and chosen is not None:
            verdict += f"  (outranked by route {chosen.route.id}, a more specific pattern)"
        lines.append(f"candidates    domain {candidate.domain:<24} {verdict}")
    route = result.route
    if route is None:
        lines.append("route         none")
        return lines
    lines.append(f"route         {route.id} {route} (service {route.service or '-'})")
    lines.append(f"method rule   {result.method}: {result.method_rule or 'not configured'}")
    if result.client is not None:
        client = result.client
        lines.append(
            f"client        {client.name} ({client.id}), status {client.status}, "
            f"credential {result.credential_id}"
        )
        held = ", ".join(result.permission) if result.permission else "none on this route"
        lines.append(f"permission    {held}")
        for limit in result.rate_limits:
            scope = "all routes" if limit.route_id is None else f"route {limit.route_id}"
            window = _WINDOWS.get(limit.window, f"{limit.window}s")
            lines.append(f"rate limit    {limit.limit}/{window} on {scope} (not counted here)")
    return lines
