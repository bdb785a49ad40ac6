"""Config files and routes that match the same paths (issue 9, item 13): refused with the
location in the file, whether the other route is in the file or only in the database."""

from __future__ import annotations

import textwrap
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from permissions.tests.factories import route_with_methods
from routes.models import Route

pytestmark = pytest.mark.django_db


def apply(tmp_path, text: str, *flags: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    out = StringIO()
    call_command("apply_config", str(path), *flags, stdout=out)
    return out.getvalue()


def problems(tmp_path, text: str, *flags: str) -> str:
    with pytest.raises(CommandError) as caught:
        apply(tmp_path, text, *flags)
    return str(caught.value)


def test_two_routes_of_the_file_that_match_the_same_paths(tmp_path):
    message = problems(
        tmp_path,
        """
        routes:
          - {pattern: "/api/orders/{id}", methods: {GET: api_key}}
          - {pattern: "/api/orders/{order_id}", methods: {DELETE: api_key}}
        clients:
          - name: acme
            permissions: [{pattern: "/api/orders/{order_id}", methods: [DELETE]}]
        """,
    )
    assert message.endswith(
        "1 problem; nothing was changed.\n"
        "  routes[1]: matches the same paths as routes[0]: placeholders match any segment "
        "whatever their names"
    )
    assert not Route.objects.exists()


def test_a_route_of_the_file_that_matches_a_database_route(tmp_path):
    existing = route_with_methods("GET", pattern="/api/orders/{id}")
    text = 'routes:\n  - {pattern: "/api/orders/{order_id}", methods: {GET: hmac}}\n'

    message = problems(tmp_path, text)

    assert (
        f"routes[0].pattern: matches the same paths as route {existing.pk} "
        "(*/api/orders/{id}) in the database" in message
    )
    # With --prune the file is the whole truth: the old route goes, the file's comes.
    apply(tmp_path, text, "--prune")
    assert list(Route.objects.values_list("pattern", flat=True)) == ["/api/orders/{order_id}"]
