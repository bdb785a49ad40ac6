"""The decision records in the admin, fast at ten million rows (issue 9, item 10).

Nothing on the page counts or aggregates the table: the paginator counts at most CAP + 1
rows, every filter has fixed choices or a text box (no list of distinct clients or routes),
the time drill-down is a set of fixed ranges, and each filter is matched by an index on
(column, time) in `audit.models.DecisionRecord`. It lives here, not in `audit`, because a row
links to its client and route pages and to the access tester, which `audit` may not import.
"""

from __future__ import annotations

import ipaddress
import uuid
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from audit.admin import ReadOnlyAdmin
from audit.models import DecisionRecord
from authz import shapes
from authz.reasons import Detail, Reason
from clients.models import Client
from dashboard.admin.page import ObjectPage
from dashboard.filters import FixedChoicesFilter, RecentFilter, TextFilter
from routes.models import Route

# Pages past this many rows are reached by narrowing the list (filters, time ranges).
CAP = 10_000
PATH_SHOWN = 60


class CappedPaginator(Paginator):
    """Counts up to CAP + 1 rows (an index range read), never the whole table."""

    cap = CAP

    @cached_property
    def count(self) -> int:
        return self.object_list[: CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > CAP


class ReasonFilter(FixedChoicesFilter):
    title = "reason"
    parameter_name = field = "reason"
    options = tuple((r.value, r.value) for r in Reason)


class DetailFilter(FixedChoicesFilter):
    title = "detail"
    parameter_name = field = "detail"
    options = tuple((d.value, d.value) for d in Detail)


class ShapeFilter(FixedChoicesFilter):
    title = "proxy"
    parameter_name = field = "shape"
    options = tuple((s.name, s.label) for s in shapes.SHAPES)


class ClientFilter(TextFilter):
    """A client's name or id; the name is looked up among clients (a small table)."""

    title = "client"
    parameter_name = "client"
    placeholder = "name or id"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        text = (self.value() or "").strip()
        if not text:
            return queryset
        try:
            return queryset.filter(client_id=uuid.UUID(text))
        except ValueError:
            pass
        ids = Client.objects.filter(name__iexact=text).values_list("id", flat=True)
        return queryset.filter(client_id__in=list(ids))


class RouteFilter(TextFilter):
    """A route's id, or its pattern (with or without the domain in front)."""

    title = "route"
    parameter_name = "route"
    placeholder = "id or pattern"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        text = (self.value() or "").strip()
        if not text:
            return queryset
        if text.isdigit():
            return queryset.filter(route_id=int(text))
        slash = text.find("/")
        routes = Route.objects.filter(pattern=text[slash:]) if slash >= 0 else Route.objects.none()
        if slash > 0:
            routes = routes.filter(domain__iexact=text[:slash])
        return queryset.filter(route_id__in=list(routes.values_list("id", flat=True)))


class SourceFilter(TextFilter):
    title = "source address"
    parameter_name = "source"
    placeholder = "e.g. 203.0.113.9"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        text = (self.value() or "").strip()
        if not text:
            return queryset
        try:
            return queryset.filter(source_ip=str(ipaddress.ip_address(text)))
        except ValueError:
            return queryset.none()


def tester_link(record: DecisionRecord) -> str:
    """The access tester, filled in with this request (never a key: none is stored)."""
    query = {"method": record.method, "host": record.host, "uri": record.path or "/"}
    if record.client_id is not None:
        query["client"] = str(record.client_id)
    return f"{reverse('dashboard:tester')}?{urlencode(query)}"


@admin.register(DecisionRecord)
class DecisionRecordAdmin(ObjectPage, ReadOnlyAdmin):
    """Audited decisions: every deny and a sample of allows (GATEKEEPER_AUDIT_ALLOW_SAMPLE)."""

    list_display = ["when", "outcome", "client", "route", "request", "source_ip", "shape"]
    list_filter = [
        RecentFilter,
        ReasonFilter,
        DetailFilter,
        ClientFilter,
        RouteFilter,
        SourceFilter,
        ShapeFilter,
    ]
    readonly_fields = [f.name for f in DecisionRecord._meta.fields]
    paginator = CappedPaginator
    show_full_result_count = False
    # Facet counts ("Show counts") would count the table once per choice of every filter.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    change_form_template = "admin/audit/decisionrecord/change_form.html"

    class Media:
        css = {"all": ["dashboard/dashboard.css"]}

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # No free-text search: a substring search reads every row. The filters are indexed.
        return queryset, False

    @admin.display(description="time", ordering="-time")
    def when(self, record: DecisionRecord) -> str:
        return f"{record.time:%Y-%m-%d %H:%M:%S}"

    @admin.display(description="outcome", ordering="reason")
    def outcome(self, record: DecisionRecord) -> str:
        if not record.detail:
            return record.reason
        return format_html("{}<br><small>{}</small>", record.reason, record.detail)

    @admin.display(description="client", ordering="client_name")
    def client(self, record: DecisionRecord) -> str:
        if record.client_id is None:
            return "-"
        return format_html(
            '<a href="?client={}" title="Only this client">{}</a>',
            record.client_id,
            record.client_name or record.client_id,
        )

    @admin.display(description="route", ordering="route_id")
    def route(self, record: DecisionRecord) -> str:
        if record.route_id is None:
            return "-"
        return format_html(
            '<a href="?route={}" title="Only this route">{}</a>',
            record.route_id,
            record.route_label,
        )

    @admin.display(description="request")
    def request(self, record: DecisionRecord) -> str:
        target = f"{record.host}{record.path}"
        shown = target if len(target) <= PATH_SHOWN else f"{target[: PATH_SHOWN - 1]}…"
        return format_html('<span title="{}">{} {}</span>', target, record.method, shown)

    def page_context(self, request: HttpRequest, record: DecisionRecord) -> dict[str, Any]:
        links = {"tester_url": tester_link(record)}
        if record.client_id is not None:
            links["client_url"] = reverse("admin:clients_client_change", args=[record.client_id])
        if record.route_id is not None:
            links["route_url"] = reverse("admin:routes_route_change", args=[record.route_id])
        return links
