"""The canonical-pattern migrations on a database that already has routes (issue 9, item 13)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("routes", "0002_readable_choice_labels")]
AFTER = [("routes", "0005_canonical_pattern_unique")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_routes_get_their_canonical_pattern_and_clashes_stop_the_migration():
    try:
        old_apps = migrate(BEFORE)
        Route = old_apps.get_model("routes", "Route")
        kept = Route.objects.create(domain="*", pattern="/api/orders/{id}")
        clash = Route.objects.create(domain="*", pattern="/api/orders/{order_id}")
        Route.objects.create(domain="api.example.com", pattern="/api/orders/{order_id}/*")

        with pytest.raises(RuntimeError) as caught:
            migrate(AFTER)
        message = str(caught.value)
        assert f"route {clash.pk} (*/api/orders/{{order_id}})" in message
        assert f"route {kept.pk} (*/api/orders/{{id}})" in message
        assert f"delete_route --id {clash.pk}" in message

        Route.objects.filter(pk=clash.pk).delete()
        new_apps = migrate(AFTER)
        canonical = dict(
            new_apps.get_model("routes", "Route").objects.values_list(
                "pattern", "canonical_pattern"
            )
        )
        assert canonical == {
            "/api/orders/{id}": "/api/orders/{}",
            "/api/orders/{order_id}/*": "/api/orders/{}/*",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
