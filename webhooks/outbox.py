"""Writing events into the outbox: an `Event` and one pending `Delivery` per endpoint that
wants it, in the caller's transaction.

Callers: the audit receiver (configuration changes, in the transaction of the change), the
decision hand-off (decision-driven events, with the endpoints' cooldowns), the worker
(`credential.expiring`) and the services (`webhook.test`, `endpoint.disabled`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from webhooks.models import Cooldown, Delivery, Endpoint, Event


def subscribed(event_type: str, *, exclude: int | None = None) -> list[Endpoint]:
    """Active endpoints that receive `event_type` (for any client)."""
    # A handful of rows: filtered here, so the query is the same on PostgreSQL and SQLite.
    endpoints = Endpoint.objects.filter(active=True).exclude(pk=exclude).order_by("pk")
    return [e for e in endpoints if event_type in e.events]


def emit(
    event_type: str,
    data: dict[str, Any],
    *,
    at: datetime,
    client_id: str | None = None,
    endpoints: Iterable[Endpoint] | None = None,
    cooldown: bool = False,
) -> Event | None:
    """Queue one event for every endpoint in `endpoints` (default: every subscribed one)
    that wants it for `client_id`; with `cooldown`, only for those whose cooldown for
    (type, client) has passed. Returns the event, or None when nobody gets it."""
    candidates = subscribed(event_type) if endpoints is None else list(endpoints)
    recipients = [e for e in candidates if e.wants(event_type, client_id)]
    if cooldown and client_id is not None:
        recipients = [e for e in recipients if _cooled_down(e, event_type, client_id, at)]
    if not recipients:
        return None
    return queue(event_type, data, at=at, client_id=client_id, endpoints=recipients)


def queue(
    event_type: str,
    data: dict[str, Any],
    *,
    at: datetime,
    client_id: str | None,
    endpoints: Sequence[Endpoint],
) -> Event:
    """Write the event (it happened `at`) and a delivery, due now, for each of `endpoints`."""
    event = Event.objects.create(type=event_type, created_at=at, client_id=client_id, data=data)
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(event=event, endpoint=endpoint, queued_at=now, next_attempt_at=now)
        for endpoint in endpoints
    )
    return event


def _cooled_down(endpoint: Endpoint, event_type: str, client_id: str, at: datetime) -> bool:
    """Start a cooldown for (endpoint, type, client) unless one is running; True when it
    started (so this event goes out).

    Exact across processes: the conditional UPDATE takes the row's lock, and a second writer
    re-reads the row after the first commits and finds it cooling; two first inserts meet the
    unique constraint and the loser is cooling too.
    """
    until = at + timedelta(seconds=endpoint.cooldown_seconds)
    key = {"endpoint": endpoint, "event_type": event_type, "client_id": client_id}
    if Cooldown.objects.filter(**key, until__lte=at).update(until=until):
        return True
    if Cooldown.objects.filter(**key).exists():
        return False
    try:
        with transaction.atomic():
            Cooldown.objects.create(**key, until=until)
    except IntegrityError:
        return False
    return True
