from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.commands import GatekeeperCommand
from routes import patterns
from routes.management.commands.create_route import describe_rules
from routes.models import Route


class Command(GatekeeperCommand):
    help = (
        "List routes with their method rules (METHOD:AUTH), ordered by domain and pattern, and "
        "under each route the routes that take some of its requests (a more specific domain "
        "or pattern: see explain_request for one request). --json prints the same as a list "
        "of objects, in the config file's shape plus id and shadowed_by."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", help="Only routes of exactly this domain (e.g. '*').")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def run(self, *args: Any, **options: Any) -> None:
        index = Route.objects.shadow_index()
        routes = Route.objects.prefetch_related("methods")
        if options["domain"] is not None:
            try:
                domain = patterns.normalize_domain(options["domain"])
            except patterns.PatternError as exc:
                raise CommandError(f"--domain: {exc}") from exc
            routes = routes.filter(domain=domain)
        routes = list(routes)
        shadows = {r.pk: index.shadows(r.pk, r.domain, r.pattern) for r in routes}
        rows = [
            {
                "id": route.pk,
                "domain": route.domain,
                "pattern": route.pattern,
                "service": route.service_name,
                "description": route.description,
                "methods": route.method_rules(),
                "shadowed_by": [
                    {"id": shadow.by.id, "route": str(shadow.by), "why": str(shadow.why)}
                    for shadow in shadows[route.pk]
                ],
            }
            for route in routes
        ]
        if options["json"]:
            self.write_json(rows)
            return
        if not rows:
            self.stdout.write("No routes.")
            return
        table = [("ID", "DOMAIN", "PATTERN", "SERVICE", "METHODS")] + [
            (str(r["id"]), r["domain"], r["pattern"], r["service"], describe_rules(r["methods"]))
            for r in rows
        ]
        widths = [max(len(line[column]) for line in table) for column in range(4)]
        notes = [(), *(shadows[route.pk] for route in routes)]
        for line, below in zip(table, notes, strict=True):
            cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
            self.stdout.write("  ".join([*cells, line[4]]))
            for shadow in below:
                self.stdout.write(f"    {shadow}")
