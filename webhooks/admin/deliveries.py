"""The delivery log: every event sent to every endpoint, its status, attempts and the
receiver's last answer (status, time, the first bytes of the body). Read-only, with one write:
"Redeliver" queues deliveries again with the same `webhook-id` (webhooks.services)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from core.actor import Actor
from core.errors import GatekeeperError
from webhooks import payloads, services
from webhooks.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "queued_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "response_ms",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "event__type", "endpoint"]
    search_fields = ["event__message_id"]
    search_help_text = "A webhook-id (msg_...)."
    list_select_related = ["event", "endpoint"]
    date_hierarchy = "queued_at"
    actions = ["redeliver"]
    fields = readonly_fields = [
        "endpoint",
        "event_type",
        "message_id",
        "status",
        "attempts",
        "queued_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "response_status",
        "response_ms",
        "error",
        "response_excerpt",
        "payload",
    ]

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description="webhook-id")
    def message_id(self, obj: Delivery) -> str:
        return obj.event.message_id

    @admin.display(description="Payload (as sent)")
    def payload(self, obj: Delivery) -> str:
        event = obj.event
        body = payloads.body(event.message_id, event.type, event.created_at, event.data)
        return format_html("<pre>{}</pre>", json.dumps(json.loads(body), indent=2))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_delivery")

    @admin.action(description="Redeliver (same webhook-id)", permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        try:
            count = services.redeliver(queryset, actor=Actor.from_request(request))
        except GatekeeperError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{count} deliver(y/ies) queued again.", messages.SUCCESS)
