from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from clients.services import get_client
from core.commands import GatekeeperCommand
from permissions.models import Permission


class Command(GatekeeperCommand):
    help = "List which client may call which route with which methods."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", help="Only this client (name, any case, or id).")
        parser.add_argument(
            "--route-pattern", help="Only routes with exactly this pattern, e.g. /api/data/*."
        )
        parser.add_argument("--json", action="store_true", help="Print a JSON list.")

    def run(self, *args: Any, **options: Any) -> None:
        permissions = Permission.objects.select_related("client", "route")
        if options["client"]:
            permissions = permissions.filter(client=get_client(options["client"]))
        if options["route_pattern"]:
            permissions = permissions.filter(route__pattern=options["route_pattern"])
        if options["json"]:
            self.write_json([_as_dict(p) for p in permissions])
            return
        if not permissions:
            self.stdout.write("No permissions.")
        for permission in permissions:
            methods = ", ".join(permission.method_list)
            self.stdout.write(f"{permission.client}  {permission.route}  {methods}")


def _as_dict(permission: Permission) -> dict[str, Any]:
    return {
        "client": permission.client.name,
        "client_id": str(permission.client.pk),
        "domain": permission.route.domain,
        "pattern": permission.route.pattern,
        "methods": list(permission.method_list),
    }
