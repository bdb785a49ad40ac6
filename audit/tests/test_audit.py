from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import record
from core.actor import Actor
from routes.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


def test_record_names_the_object_and_the_actor():
    route = RouteFactory(pattern="/api/audit/*")
    event = record(
        Actor("user", "alice"), "route.created", route, detail={"pattern": "/api/audit/*"}
    )
    event.refresh_from_db()
    assert event.actor == "user:alice"
    assert event.object_type == "routes.route"
    assert event.object_id == str(route.pk)
    assert event.object_repr == "*/api/audit/*"
    assert event.detail == {"pattern": "/api/audit/*"}


def test_staff_can_read_but_not_write_the_trail(admin_client):
    event = record(
        Actor.system("test"), "client.created", object_type="clients.client", object_id="x"
    )
    changelist = admin_client.get(reverse("admin:audit_auditevent_changelist"))
    assert changelist.status_code == 200
    assert b"client.created" in changelist.content
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    delete_url = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_trail_is_staff_only(client):
    response = client.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
