"""Run one request through the decision engine and print why it got its answer."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from authz.engine import RequestFacts, decide
from authz.nonces import DryNonces
from authz.normalize import Malformed, normalize_host, normalize_target
from authz.runtime import get_runtime
from authz.snapshot import build_snapshot
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "Explain the decision for one request: the normalised host and path, every domain "
        "entry that applies and what it matched, the chosen route, the method rule, the "
        "authentication outcome, the permission and the final reason. Reads the current "
        "configuration from the database; changes nothing (an HMAC nonce is not consumed)."
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
            help="A request header (repeatable): Authorization or X-API-Key.",
        )
        parser.add_argument("--body", default="", help="The request body (for HMAC signatures).")

    def run(self, *args: Any, **options: Any) -> None:
        headers = _parse_headers(options["header"])
        facts = RequestFacts(
            method=options["method"],
            host=options["host"],
            target=options["uri"],
            authorization=headers.get("authorization"),
            api_key_header=headers.get("x-api-key"),
            body=options["body"].encode(),
        )
        snap = build_snapshot(version=None)
        line = self.stdout.write
        try:
            host = normalize_host(facts.host)
            target = normalize_target(facts.target)
        except Malformed as exc:
            line(f"normalise     refused: {exc} ({exc.detail})")
            host = target = None
        if host is not None and target is not None:
            line(f"normalise     host {host}  path {target.path}")
            matched = None
            for domain, table in snap.index.tables_for(host):
                route = table.match(target.path)
                verdict = f"route {route.id} {route}" if route else "no matching pattern"
                if route and matched is not None:
                    verdict += f"  (shadowed by route {matched.id}, a more specific domain)"
                line(f"candidates    domain {domain:<24} {verdict}")
                matched = matched or route
            if matched is None:
                line("route         none")
            else:
                rule = matched.methods.get(facts.method)
                line(f"route         {matched.id} {matched} (service {matched.service or '-'})")
                line(f"method rule   {facts.method}: {rule or 'not configured'}")
        config = get_runtime().config
        decision = decide(facts, snap, time.time(), nonces=DryNonces(), config=config)
        if decision.client is not None:
            allowed = decision.client.permissions.get(decision.route.id) if decision.route else None
            line(
                f"client        {decision.client.name} ({decision.client.id}), "
                f"status {decision.client.status}, credential {decision.credential_id}"
            )
            line(f"permission    {', '.join(sorted(allowed)) if allowed else 'none on this route'}")
        detail = f" ({decision.detail})" if decision.detail else ""
        style = self.style.SUCCESS if decision.allowed else self.style.ERROR
        line(style(f"decision      {decision.reason.status} {decision.reason}{detail}"))


def _parse_headers(raw_headers: list[str]) -> dict[str, str]:
    headers = {}
    for raw in raw_headers:
        name, colon, value = raw.partition(":")
        if not colon or not name.strip():
            raise CommandError(f"--header wants 'Name: value', got {raw.split(':')[0]!r}")
        headers[name.strip().lower()] = value.strip()
    unknown = set(headers) - {"authorization", "x-api-key"}
    if unknown:
        raise CommandError(
            f"only Authorization and X-API-Key are read, not {', '.join(sorted(unknown))}"
        )
    return headers
