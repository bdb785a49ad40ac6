"""Writing audit rows. Services call `record` inside their own transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from audit.models import AuditEvent
from core.actor import Actor


def record(
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    *,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """Write one audit row. `detail` must be JSON-safe and must never contain a secret.

    Pass `obj` for a saved object; pass the object_* fields for one that is already deleted.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:300]
    return AuditEvent.objects.create(
        actor=str(actor),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        detail=detail or {},
    )
