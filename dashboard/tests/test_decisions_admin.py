"""The audited decisions in the admin: read-only, filtered by reason, detail, client, route,
source, proxy and time range, a constant number of queries however many rows a page shows,
and nothing that counts or aggregates the whole table (issue 9, item 10)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import DecisionRecord
from clients.tests.factories import ClientFactory
from dashboard.admin import decisions
from routes.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db

ACME = uuid.UUID("6f1c1a52-0000-4000-8000-000000000001")
GLOBEX = uuid.UUID("6f1c1a52-0000-4000-8000-000000000002")
CHANGELIST = "admin:audit_decisionrecord_changelist"


def decision(**fields) -> DecisionRecord:
    values = {
        "time": timezone.now() - timedelta(minutes=5),
        "reason": "no_permission",
        "method": "GET",
        "host": "api.example.com",
        "path": "/api/data/x",
        "source_ip": "203.0.113.9",
        "shape": "nginx",
        **fields,
    }
    return DecisionRecord.objects.create(**values)


@pytest.fixture
def trail() -> dict[str, DecisionRecord]:
    # Rows that decision-log threads of other tests committed are not this test's business
    # (deleted inside this test's transaction, so only for its duration).
    DecisionRecord.objects.all().delete()
    ClientFactory(id=ACME, name="acme")
    ClientFactory(id=GLOBEX, name="globex")
    data = RouteFactory(domain="*", pattern="/api/data/*")
    admin = RouteFactory(domain="api.example.com", pattern="/api/admin/*")
    return {
        "acme": decision(
            client_id=ACME,
            client_name="acme",
            route_id=data.id,
            route_label="*/api/data/*",
            path="/api/data/acme-only",
        ),
        "globex": decision(
            client_id=GLOBEX,
            client_name="globex",
            route_id=admin.id,
            route_label="api.example.com/api/admin/*",
            reason="method_not_allowed",
            path="/api/admin/globex-only",
            source_ip="198.51.100.4",
        ),
        "anonymous": decision(
            reason="invalid_credentials",
            detail="unknown_credential",
            path="/api/data/anonymous-only",
            time=timezone.now() - timedelta(days=3),
            shape="forward",
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
        ({"detail": "unknown_credential"}, {"anonymous-only"}),
        ({"client": str(ACME)}, {"acme-only"}),
        ({"client": "GLOBEX"}, {"globex-only"}),
        ({"client": "nobody"}, set()),
        ({"route": "{admin}"}, {"globex-only"}),
        ({"route": "/api/data/*"}, {"acme-only"}),
        ({"route": "api.example.com/api/admin/*"}, {"globex-only"}),
        ({"source": "198.51.100.4"}, {"globex-only"}),
        ({"source": "not-an-address"}, set()),
        ({"shape": "forward"}, {"anonymous-only"}),
        ({"within": "hour"}, {"acme-only", "globex-only"}),
        ({"within": "week"}, {"acme-only", "globex-only", "anonymous-only"}),
        ({"within": "hour", "reason": "no_permission"}, {"acme-only"}),
    ],
)
def test_staff_filter_the_decisions(admin_client, trail, params, expected):
    admin_route = trail["globex"].route_id
    params = {name: value.replace("{admin}", str(admin_route)) for name, value in params.items()}
    assert listed(admin_client, **params) == expected


def test_rows_link_to_their_client_and_route_filters(admin_client, trail):
    content = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert f'href="?client={ACME}"' in content
    assert f'href="?route={trail["globex"].route_id}"' in content


def test_the_page_never_counts_or_aggregates_the_whole_table(admin_client, trail):
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    on_table = [q["sql"] for q in captured if "audit_decisionrecord" in q["sql"]]
    assert on_table
    for sql in on_table:
        upper = sql.upper()
        # Today's client and route filters grouped the table, and the date drill-down
        # listed its distinct years.
        assert "GROUP BY" not in upper, sql
        assert "DISTINCT" not in upper, sql
        if "COUNT(" in upper:
            assert "LIMIT" in upper, f"an unbounded count: {sql}"


def test_past_the_cap_the_page_says_more_than(admin_client, trail, monkeypatch):
    monkeypatch.setattr(decisions, "CAP", 2)
    monkeypatch.setattr(decisions.CappedPaginator, "cap", 2)
    content = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "More than 2 decision records" in content


def test_a_record_says_which_client_and_links_to_its_pages(admin_client, trail):
    row = trail["acme"]
    page = admin_client.get(reverse("admin:audit_decisionrecord_change", args=[row.pk]))
    content = page.content.decode()
    assert "acme" in content
    assert reverse("admin:clients_client_change", args=[ACME]) in content
    assert reverse("admin:routes_route_change", args=[row.route_id]) in content


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


COLUMNS = {
    "within": "time",
    "reason": "reason",
    "detail": "detail",
    "client": "client_id",
    "route": "route_id",
    "source": "source_ip",
    "shape": "shape",
}
# Each filter's query, planned as PostgreSQL would if the table were too big to scan.
INDEXED = [
    {},
    {"within": "day"},
    {"reason": "no_permission"},
    {"detail": "unknown_credential"},
    {"client": str(ACME)},
    {"route": "1"},
    {"source": "198.51.100.4"},
    {"shape": "forward"},
]


@pytest.mark.needs("postgres")
@pytest.mark.parametrize("params", INDEXED, ids=lambda p: "-".join(p) or "all")
def test_every_filter_reads_an_index_in_time_order(admin_client, trail, params):
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(reverse(CHANGELIST), params)
    (page_query,) = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT")
        and "audit_decisionrecord" in q["sql"]
        and "COUNT(" not in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page_query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    for param in params:
        # The index is the filter's own, not the time index read with a filter beside it.
        assert f"Index Cond: ({COLUMNS[param]}" in plan.replace("((", "(").replace('"', ""), plan
    # The index gives the newest first; a full sort would read every matching row.
    assert not any(
        line.strip().startswith("->  Sort") or line.startswith("Sort") for line in plan.splitlines()
    ), plan
