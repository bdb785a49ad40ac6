"""The audited decisions in the admin: read-only, filtered by reason, client, route and time,
searchable, and a constant number of queries however many rows a page shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import DecisionRecord

pytestmark = pytest.mark.django_db

ACME = uuid.UUID("6f1c1a52-0000-4000-8000-000000000001")
GLOBEX = uuid.UUID("6f1c1a52-0000-4000-8000-000000000002")
WHEN = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
CHANGELIST = "admin:audit_decisionrecord_changelist"


def decision(**fields) -> DecisionRecord:
    values = {
        "time": WHEN,
        "reason": "no_permission",
        "method": "GET",
        "host": "api.example.com",
        "path": "/api/data/x",
        "source_ip": "203.0.113.9",
        "shape": DecisionRecord.Shape.NGINX,
        **fields,
    }
    return DecisionRecord.objects.create(**values)


@pytest.fixture
def trail() -> dict[str, DecisionRecord]:
    # Rows that decision-log threads of other tests committed are not this test's business
    # (deleted inside this test's transaction, so only for its duration).
    DecisionRecord.objects.all().delete()
    return {
        "acme": decision(
            client_id=ACME,
            client_name="acme",
            route_id=7,
            route_label="*/api/data/*",
            path="/api/data/acme-only",
        ),
        "globex": decision(
            client_id=GLOBEX,
            client_name="globex",
            route_id=8,
            route_label="api.example.com/api/admin/*",
            reason="method_not_allowed",
            path="/api/admin/globex-only",
            source_ip="198.51.100.4",
        ),
        "anonymous": decision(
            reason="invalid_credentials",
            detail="unknown_credential",
            path="/api/data/anonymous-only",
            time=WHEN - timedelta(days=400),
            shape=DecisionRecord.Shape.FORWARD,
        ),
    }


def listed(admin_client, **params: str) -> set[str]:
    """The paths of the rows the changelist shows for these filters."""
    response = admin_client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    shown = response.context["cl"].result_list
    return {row.path.rsplit("/", 1)[-1] for row in shown}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"acme-only", "globex-only", "anonymous-only"}),
        ({"reason": "method_not_allowed"}, {"globex-only"}),
        ({"client_id": str(ACME)}, {"acme-only"}),
        ({"route_id": "8"}, {"globex-only"}),
        ({"shape": "forward"}, {"anonymous-only"}),
        ({"time__year": "2026"}, {"acme-only", "globex-only"}),
        ({"time__year": "2025", "time__month": "2"}, {"anonymous-only"}),
        ({"q": "globex"}, {"globex-only"}),
        ({"q": "anonymous-only"}, {"anonymous-only"}),
        ({"q": "198.51.100"}, {"globex-only"}),
        ({"q": "api.example.com"}, {"acme-only", "globex-only", "anonymous-only"}),
    ],
)
def test_staff_filter_and_search_the_decisions(admin_client, trail, params, expected):
    assert listed(admin_client, **params) == expected


def test_client_and_route_filters_offer_the_recorded_names(admin_client, trail):
    response = admin_client.get(reverse(CHANGELIST))
    filters = {spec.title: spec for spec in response.context["cl"].filter_specs}
    assert filters["client"].lookup_choices == [(str(ACME), "acme"), (str(GLOBEX), "globex")]
    assert filters["route"].lookup_choices == [
        ("7", "*/api/data/*"),
        ("8", "api.example.com/api/admin/*"),
    ]
    # Each row links to its client's and its route's decisions.
    assert f'href="?client_id={ACME}"' in response.content.decode()
    assert 'href="?route_id=8"' in response.content.decode()


@pytest.mark.parametrize("params", [{"client_id": "not-a-uuid"}, {"route_id": "seven"}])
def test_a_malformed_filter_value_is_refused_not_a_crash(admin_client, trail, params):
    response = admin_client.get(reverse(CHANGELIST), params)
    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_the_decision_trail_is_read_only(admin_client, trail):
    row = trail["acme"]
    change = reverse("admin:audit_decisionrecord_change", args=[row.pk])
    delete = reverse("admin:audit_decisionrecord_delete", args=[row.pk])
    assert admin_client.get(reverse("admin:audit_decisionrecord_add")).status_code == 403
    page = admin_client.get(change)
    assert page.status_code == 200
    assert b"acme" in page.content
    assert b'name="_save"' not in page.content
    assert admin_client.post(change, {"reason": "authenticated"}).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.reason == "no_permission"
    changelist = admin_client.get(reverse(CHANGELIST))
    assert b"delete_selected" not in changelist.content


def test_the_decision_trail_is_staff_only(client, trail):
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_changelist_costs_the_same_for_three_rows_or_sixty(admin_client, trail):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        return len(captured)

    few = queries()
    for n in range(57):
        decision(client_id=uuid.UUID(int=n + 100), client_name=f"c{n}", route_id=n + 100)
    assert queries() == few
