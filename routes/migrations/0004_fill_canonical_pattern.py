# Step 2 of 3: fill canonical_pattern for existing routes, and stop on routes that match the
# same paths (the unique constraint of 0005 could not be added over them).

import re

from django.db import migrations

# A whole `{name}` segment, as routes.patterns.canonical_pattern has it (copied: a migration
# must not change when the app's code does).
PARAM_SEGMENT = re.compile(r"(?<=/)\{[A-Za-z_][A-Za-z0-9_]*\}(?=/|$)")


def fill_canonical_pattern(apps, schema_editor):
    Route = apps.get_model("routes", "Route")
    seen = {}
    clashes = []
    for route in Route.objects.order_by("pk"):
        route.canonical_pattern = PARAM_SEGMENT.sub("{}", route.pattern)
        route.save(update_fields=["canonical_pattern"])
        key = (route.domain.lower(), route.canonical_pattern)
        if key in seen:
            first = seen[key]
            # Decisions always went to the route with the lower id (the snapshot adds routes in
            # id order and the first keeps the shared node): the other one never matched.
            clashes.append(
                f"route {route.pk} ({route.domain}{route.pattern}) matches the same paths as "
                f"route {first.pk} ({first.domain}{first.pattern}) and never got a request: "
                f"delete it (python manage.py delete_route --id {route.pk})"
            )
        else:
            seen[key] = route
    if clashes:
        raise RuntimeError(
            "Some routes match the same paths as another route on their domain, which Gatekeeper "
            "now refuses. This step changed nothing: delete them as below, then run migrate "
            "again.\n"
            + "\n".join(clashes)
        )


class Migration(migrations.Migration):

    dependencies = [
        ("routes", "0003_route_canonical_pattern"),
    ]

    operations = [
        migrations.RunPython(fill_canonical_pattern, migrations.RunPython.noop),
    ]
