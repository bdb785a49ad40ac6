from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db.models import Max, Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from audit.models import AuditEvent, DecisionRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """The trail is written by services and the decision log, never edited by hand; old rows
    go with `prune_audit`."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["time", "actor", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type", "time"]
    search_fields = ["actor", "action", "object_repr", "object_id"]
    date_hierarchy = "time"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


class _NamedIdFilter(admin.SimpleListFilter):
    """Filter on an id column, offering each id under the latest name recorded with it (the
    rows name clients and routes themselves: this app cannot look them up)."""

    id_field = ""
    name_field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        named = (
            DecisionRecord.objects.exclude(**{self.id_field: None})
            .order_by()
            .values(self.id_field)
            .annotate(name=Max(self.name_field))
        )
        choices = [
            (str(row[self.id_field]), row["name"] or str(row[self.id_field])) for row in named
        ]
        return sorted(choices, key=lambda choice: choice[1].lower())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(**{self.id_field: value})
        except (ValidationError, ValueError) as exc:
            # What the admin's own field filters do: back to the list with "?e=1".
            raise IncorrectLookupParameters(exc) from exc


class ClientFilter(_NamedIdFilter):
    title = "client"
    parameter_name = id_field = "client_id"
    name_field = "client_name"


class RouteFilter(_NamedIdFilter):
    title = "route"
    parameter_name = id_field = "route_id"
    name_field = "route_label"


@admin.register(DecisionRecord)
class DecisionRecordAdmin(ReadOnlyAdmin):
    """Audited decisions: every deny and a sample of allows (GATEKEEPER_AUDIT_ALLOW_SAMPLE)."""

    list_display = [
        "time",
        "reason",
        "detail",
        "client",
        "route",
        "method",
        "host",
        "path",
        "source_ip",
        "shape",
    ]
    list_filter = ["reason", ClientFilter, RouteFilter, "shape", "time"]
    search_fields = ["client_name", "path", "host", "source_ip"]
    date_hierarchy = "time"
    readonly_fields = [f.name for f in DecisionRecord._meta.fields]
    # The table grows by every deny: skip the extra COUNT(*) of all rows on each page.
    show_full_result_count = False

    @admin.display(description="client", ordering="client_name")
    def client(self, record: DecisionRecord) -> str:
        if record.client_id is None:
            return "-"
        return format_html('<a href="?client_id={}">{}</a>', record.client_id, record.client_name)

    @admin.display(description="route", ordering="route_id")
    def route(self, record: DecisionRecord) -> str:
        if record.route_id is None:
            return "-"
        return format_html('<a href="?route_id={}">{}</a>', record.route_id, record.route_label)
