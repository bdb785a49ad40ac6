"""apply_config --check (issue 12): for CI pipelines, the file checked against the database,
nothing written, a non-zero exit on any problem."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from clients.models import Client
from permissions.tests.factories import route_with_methods
from routes.models import Route

pytestmark = pytest.mark.django_db

GOOD = """
routes:
  - {pattern: /api/data/*, methods: {GET: api_key}}
clients:
  - name: acme
    credentials: [{kind: api_key}]
    permissions: [{pattern: /api/data/*, methods: [GET]}]
"""


def check(tmp_path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    out = StringIO()
    call_command("apply_config", str(path), "--check", stdout=out)
    return out.getvalue()


def test_a_good_file_says_what_would_change_and_writes_nothing(tmp_path):
    out = check(tmp_path, GOOD)

    assert out == (
        "OK: the file applies cleanly (4 to create, 0 to update, 0 to delete, 0 unchanged).\n"
        "Dry run: nothing was changed.\n"
    )
    assert not Route.objects.exists()
    assert not Client.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_file_the_database_refuses_exits_2_with_every_problem(tmp_path):
    route_with_methods("GET", pattern="/api/data/*")
    text = GOOD.replace("methods: [GET]", "methods: [GET, PATCH]").replace(
        "routes:\n  - {pattern: /api/data/*, methods: {GET: api_key}}\n", ""
    )

    with pytest.raises(CommandError) as caught:
        check(tmp_path, text)

    assert caught.value.returncode == 2
    assert str(caught.value).endswith(
        "1 problem; nothing was changed.\n"
        "  clients[0].permissions[0].methods: PATCH is not configured on route */api/data/*"
    )
    assert not Client.objects.exists()
