"""Arguments that name a client's permission on a route, shared by `grant` and `revoke`."""

from __future__ import annotations

from django.core.management.base import CommandParser


def add_permission_arguments(parser: CommandParser) -> None:
    parser.add_argument("--client", required=True, help="Client name (any case) or id.")
    parser.add_argument(
        "--domain", default="*", help="The route's domain, as configured (default: *)."
    )
    parser.add_argument(
        "--pattern", required=True, help="The route's path pattern, e.g. /api/data/*."
    )
