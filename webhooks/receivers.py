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
    endpoints = outbox.subscribed(event_type, exclude=exclude)
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
