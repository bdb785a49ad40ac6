"""Configuration changes become events through the audit trail.

Every service write records an `AuditEvent` in its own transaction. A receiver on that row's
`post_save` writes the matching event into the outbox, in the same transaction: a change that
rolls back takes its event with it, and a change that commits has its event committed too,
whatever happens to the process a moment later. The apps that make the changes never import
webhooks (they sit below it); this receiver is the one place the two meet.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from audit.models import AuditEvent
from audit.signals import recorded_many
from webhooks import actions, outbox, payloads

DISPATCH_UID = "webhooks.audit_event"


def on_audit_event(sender: type, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    event_type = payloads.AUDIT_EVENTS.get(instance.action)
    if event_type is None:
        return
    # An endpoint's own disabling goes to the others.
    exclude = int(instance.object_id) if instance.action == actions.ENDPOINT_DISABLED else None
    _emit(instance, event_type, outbox.subscribed(event_type, exclude=exclude))


def on_audit_events(sender: type, rows: list[AuditEvent], **kwargs: Any) -> None:
    """The rows of one bulk write (a config file's thousands): the subscribed endpoints are
    looked up once per event type, not once per row."""
    subscribed: dict[str, list[Any]] = {}
    for row in rows:
        event_type = payloads.AUDIT_EVENTS.get(row.action)
        if event_type is None:
            continue
        if row.action == actions.ENDPOINT_DISABLED:
            on_audit_event(sender, row, created=True)
            continue
        if event_type not in subscribed:
            subscribed[event_type] = outbox.subscribed(event_type)
        _emit(row, event_type, subscribed[event_type])


def _emit(instance: AuditEvent, event_type: str, endpoints: list[Any]) -> None:
    if not endpoints:
        return
    described = payloads.from_audit(instance, event_type)
    outbox.emit(
        event_type,
        described.data,
        at=instance.time,
        client_id=described.client_id,
        endpoints=endpoints,
    )


def connect() -> None:
    post_save.connect(on_audit_event, sender=AuditEvent, dispatch_uid=DISPATCH_UID)
    recorded_many.connect(on_audit_events, sender=AuditEvent, dispatch_uid=f"{DISPATCH_UID}.many")
