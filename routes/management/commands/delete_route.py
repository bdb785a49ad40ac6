from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.commands import GatekeeperCommand
from core.errors import NotFound
from routes.models import Route
from routes.services import delete_route, get_route


class Command(GatekeeperCommand):
    help = (
        "Delete a route, named by --id or by --domain and --pattern, with its method rules "
        "and every permission and rate limit on it. No prompt: use --dry-run to check first."
    )
    supports_dry_run = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", type=int, help="The route's id (see list_routes).")
        parser.add_argument("--domain", default="*", help="The route's domain (default '*').")
        parser.add_argument("--pattern", help="The route's pattern, exactly as listed.")

    def run(self, *args: Any, **options: Any) -> None:
        route = self._route(options["id"], options["domain"], options["pattern"])
        label = f"{route.pk} {route}"
        delete_route(route, actor=self.actor)
        self.stdout.write(self.style.SUCCESS(f"{self.did('delete')} route {label}"))

    def _route(self, route_id: int | None, domain: str, pattern: str | None) -> Route:
        if (route_id is None) == (pattern is None):
            raise CommandError("name the route with --id, or with --pattern (and --domain)")
        if pattern is not None:
            return get_route(domain, pattern)
        route = Route.objects.filter(pk=route_id).first()
        if route is None:
            raise NotFound(f"no route with id {route_id}")
        return route
