"""Writing audit rows. Services call `record` inside their own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models

from audit.models import AuditEvent, DecisionCount
from audit.signals import recorded_many
from core.actor import Actor

# Rows per INSERT when a service writes many audit rows at once.
AUDIT_BATCH = 1000


def event(
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    *,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """An unsaved audit row (see `record`), for services that write many at once."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:300]
    return AuditEvent(
        actor=str(actor),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        detail=detail or {},
    )


def record(actor: Actor, action: str, obj: models.Model | None = None, **fields: Any) -> AuditEvent:
    """Write one audit row (the fields of `event`). `detail` must be JSON-safe and must never
    contain a secret. Pass `obj` for a saved object; pass the object_* fields for one that is
    already deleted."""
    row = event(actor, action, obj, **fields)
    row.save(force_insert=True)
    return row


def record_many(rows: list[AuditEvent]) -> None:
    """Write audit rows made with `event`, in batches (one row per object changed, as ever),
    and announce them together (`audit.signals.recorded_many`): bulk_create sends no
    `post_save`."""
    written = AuditEvent.objects.bulk_create(rows, batch_size=AUDIT_BATCH)
    if written:
        recorded_many.send(sender=AuditEvent, rows=written)


def add_decision_counts(counts: Mapping[tuple[datetime, str], int]) -> None:
    """Add `{(minute, reason): n}` to the per-minute decision counts, in one statement.

    The decision writer calls this once per flush with what it counted in memory since the
    last one. Several processes add to the same rows at once, so the addition happens in the
    database (`INSERT ... ON CONFLICT DO UPDATE SET count = count + excluded.count`, the same
    on PostgreSQL and SQLite), never as a read-modify-write. Times are cut to their minute.
    """
    rows: dict[tuple[datetime, str], int] = {}
    for (when, reason), n in counts.items():
        if n <= 0:
            continue
        minute = when.astimezone(UTC).replace(second=0, microsecond=0)
        rows[(minute, reason)] = rows.get((minute, reason), 0) + n
    if not rows:
        return
    table = connection.ops.quote_name(DecisionCount._meta.db_table)
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    # The field prepares the value as the backend stores it (SQLite keeps naive UTC text).
    stored = DecisionCount._meta.get_field("minute")
    params: list[object] = []
    for (minute, reason), n in sorted(rows.items()):
        params.extend([stored.get_db_prep_value(minute, connection), reason, n])
    sql = (
        f"INSERT INTO {table} (minute, reason, count) VALUES {values} "  # noqa: S608 - no input
        f"ON CONFLICT (minute, reason) DO UPDATE SET count = {table}.count + excluded.count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
