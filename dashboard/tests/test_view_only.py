"""Staff with only view permissions: every page works, no button shows, and every write is
refused by the server, not only hidden (issue 13)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.tests.factories import DecisionRecordFactory
from authz.tests.conftest import ACTOR
from clients.models import Credential
from clients.services import issue_api_key
from permissions.models import Permission

pytestmark = pytest.mark.django_db

BUTTONS = ["Revoke</button>", 'id="issue-form"', "Rotate API keys", 'id="grant-form"']


def pages(world) -> list[str]:
    record = DecisionRecordFactory()
    event = AuditEvent.objects.first()
    return [
        "/admin/",
        reverse("dashboard:tester"),
        reverse("admin:clients_client_changelist"),
        reverse("admin:clients_client_change", args=[world.acme.pk]),
        reverse("admin:clients_credential_changelist"),
        reverse("admin:routes_route_changelist"),
        reverse("admin:routes_route_change", args=[world.data.pk]),
        reverse("admin:permissions_permission_changelist"),
        reverse("admin:audit_decisionrecord_changelist"),
        reverse("admin:audit_decisionrecord_change", args=[record.pk]),
        reverse("admin:audit_auditevent_changelist"),
        reverse("admin:audit_auditevent_change", args=[event.pk]),
    ]


def test_every_page_works_for_a_viewer_without_buttons(viewer_client, world):
    for url in pages(world):
        response = viewer_client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        for button in BUTTONS:
            assert button not in content, (url, button)
        assert 'name="_save"' not in content, url


def test_the_tester_works_for_a_viewer(viewer_client, world):
    response = viewer_client.post(
        reverse("dashboard:tester"),
        {"method": "GET", "host": "a.test", "uri": "/api/data/x", "client": "acme", "headers": ""},
    )
    assert "200 authenticated" in response.content.decode()


def test_a_viewer_cannot_write_through_the_dashboard(viewer_client, world):
    credential = Credential.objects.filter(client=world.acme, kind="api_key").first()
    before = AuditEvent.objects.count()
    attempts = [
        (reverse("admin:clients_client_issue", args=[world.acme.pk]), {"kind": "api_key"}),
        (reverse("admin:clients_client_rotate", args=[world.acme.pk]), {"kind": "api_key"}),
        (reverse("admin:clients_client_revoke", args=[world.acme.pk, credential.pk]), {}),
        (
            reverse("dashboard:grant", args=[world.acme.pk]),
            {"routes": [world.admin.pk], "methods": ["GET"]},
        ),
        (
            reverse("admin:routes_route_change", args=[world.data.pk]),
            {"domain": "*", "pattern": "/api/data/*", "rule_GET": "public"},
        ),
        (
            reverse("admin:clients_client_changelist"),
            {"action": "issue_api_key", "_selected_action": [str(world.acme.pk)]},
        ),
    ]
    for url, data in attempts:
        response = viewer_client.post(url, data)
        # Refused (403), or sent back with nothing done (an action it may not run is ignored).
        assert response.status_code in (200, 302, 403), url
        if response.status_code == 302:
            assert "/secret/" not in response["Location"], url
    assert AuditEvent.objects.count() == before
    assert not Permission.objects.filter(client=world.acme, route=world.admin).exists()
    credential.refresh_from_db()
    assert credential.revoked_at is None


def test_a_viewer_never_sees_someone_elses_new_secret(viewer_client, admin_client, world):
    issued = issue_api_key(world.acme, actor=ACTOR)
    assert issued.plaintext not in viewer_client.get("/admin/").content.decode()
