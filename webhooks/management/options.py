"""Arguments the webhook endpoint commands share: event types, clients, cooldown."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandParser

from clients.services import get_client
from core.commands import duration_argument
from webhooks.models import EventType
from webhooks.services import EndpointSecret


def event_types(text: str) -> list[str]:
    """argparse `type=`: `all`, or comma-separated event types."""
    if text.strip().lower() == "all":
        return [t.value for t in EventType.subscribable()]
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    known = {t.value for t in EventType.subscribable()}
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(
            f"unknown event type(s) {', '.join(unknown) or '(none)'}; use all or some of: "
            + ", ".join(sorted(known))
        )
    return wanted


def cooldown_seconds(text: str) -> int:
    return int(duration_argument(text).total_seconds())


def add_endpoint_arguments(parser: CommandParser, *, creating: bool) -> None:
    parser.add_argument(
        "--events",
        type=event_types,
        default=event_types("all") if creating else None,
        help="Comma-separated event types, or all" + (" (the default)." if creating else "."),
    )
    parser.add_argument(
        "--client",
        dest="clients",
        action="append",
        metavar="NAME_OR_ID",
        help="Only events about this client (repeat for several); events about no client "
        "always go." + ("" if creating else " Replaces the current filter."),
    )
    if not creating:
        parser.add_argument("--all-clients", action="store_true", help="Drop the client filter.")
    parser.add_argument(
        "--cooldown",
        type=cooldown_seconds,
        help="At most one decision-driven event per client and type within this time, e.g. "
        "5m (default 5m).",
    )
    parser.add_argument("--description")


def client_ids(names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    return [str(get_client(name).pk) for name in names]


def report_secret(command: BaseCommand, created: EndpointSecret, verb: str) -> None:
    endpoint = created.endpoint
    command.stdout.write(
        command.style.SUCCESS(f"{verb} webhook endpoint {endpoint.name} (id {endpoint.pk}).")
    )
    command.stdout.write(created.plaintext)
    command.stdout.write(
        command.style.WARNING("Store this signing secret now: it will not be shown again.")
    )
