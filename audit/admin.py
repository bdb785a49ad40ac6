"""The configuration audit trail in the admin, read-only.

The decision records' admin is in `dashboard.admin.decisions`: its rows link to client and
route pages and to the access tester, which this app may not import.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["time", "actor", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type", "time"]
    search_fields = ["actor", "action", "object_repr", "object_id"]
    date_hierarchy = "time"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
