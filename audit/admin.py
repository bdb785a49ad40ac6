"""The configuration audit trail in the admin, read-only.

The decision records' admin is in `dashboard.admin.decisions`: its rows link to client and
route pages and to the access tester, which this app may not import.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from audit.models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """The trail is written by services and the decision log, never edited by hand; old rows
    go with `prune_audit`."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def _value(value: Any) -> str:
    """One detail value as HTML: dicts as nested tables, lists one item a line."""
    if isinstance(value, dict):
        return _table(value)
    if isinstance(value, list):
        if not value:
            return mark_safe('<span class="quiet">none</span>')
        return format_html_join(mark_safe("<br>"), "{}", ((_value(item),) for item in value))
    if value is None or value == "":
        return mark_safe('<span class="quiet">-</span>')
    return format_html("{}", value)


def _table(detail: dict[str, Any]) -> str:
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td></tr>',
        ((key.replace("_", " "), _value(value)) for key, value in detail.items()),
    )
    return format_html('<table class="audit-detail">{}</table>', rows)


def object_url(event: AuditEvent) -> str | None:
    """The admin page of the event's object, when the admin shows that kind of object."""
    if not event.object_id or event.action.endswith(".deleted"):
        return None
    try:
        model = apps.get_model(event.object_type)
    except (LookupError, ValueError):
        return None
    if not admin.site.is_registered(model):
        return None
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[event.object_id])
    except NoReverseMatch:
        return None


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["time", "actor", "action", "object_link"]
    list_filter = ["action", "object_type", "time"]
    search_fields = ["actor", "action", "object_repr", "object_id"]
    date_hierarchy = "time"
    fields = ["time", "actor", "action", "object_link", "details"]
    readonly_fields = fields

    @admin.display(description="object", ordering="object_repr")
    def object_link(self, event: AuditEvent) -> str:
        label = event.object_repr or event.object_id or event.object_type
        url = object_url(event)
        if url is None:
            return format_html("{} <small>({})</small>", label, event.object_type)
        return format_html('<a href="{}">{}</a> <small>({})</small>', url, label, event.object_type)

    @admin.display(description="details")
    def details(self, event: AuditEvent) -> str:
        return _table(event.detail) if event.detail else "-"
