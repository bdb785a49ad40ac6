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


def test_an_event_reads_as_a_table_with_a_link_to_its_object(admin_client):
    route = RouteFactory(pattern="/api/readable/*")
    event = record(
        Actor("user", "alice"),
        "route.updated",
        route,
        detail={"domain": "*", "changed": {"pattern": ["/api/old/*", "/api/readable/*"]}},
    )
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    content = page.content.decode()
    assert '<table class="audit-detail">' in content
    assert '<th scope="row">changed</th>' in content
    assert "/api/old/*<br>/api/readable/*" in content
    assert '{"domain"' not in content  # no raw JSON
    assert reverse("admin:routes_route_change", args=[route.pk]) in content
    # No stray help text under the fields.
    assert 'class="help"' not in content
    listed = admin_client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert reverse("admin:routes_route_change", args=[route.pk]) in listed


def test_a_deleted_object_is_named_without_a_link(admin_client):
    event = record(
        Actor.system("test"),
        "route.deleted",
        object_type="routes.route",
        object_id="99999",
        object_repr="*/api/gone/*",
    )
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert b"*/api/gone/*" in page.content
    assert reverse("admin:routes_route_change", args=[99999]).encode() not in page.content
