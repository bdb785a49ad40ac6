"""Every change to webhook endpoints and deliveries: atomic, audited (style rule 3).

The admin, the commands and (later) the REST API call these. A new or rotated signing secret
exists in plaintext only in the `EndpointSecret` returned; it is stored sealed. Audit rows name
an endpoint by name and by its URL without the query (a query may carry the receiver's token).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.services import record
from clients import encryption
from core.actor import Actor
from core.errors import Conflict, NotFound
from webhooks import actions, outbox, signing
from webhooks.destinations import display_url
from webhooks.models import DEFAULT_COOLDOWN_SECONDS, Cooldown, Delivery, Endpoint, Event, EventType

# The settable fields of an endpoint, as create_endpoint and update_endpoint take them.
ENDPOINT_FIELDS = ("name", "url", "description", "events", "client_ids", "cooldown_seconds")
SECRET_REENCRYPT_FIELDS = ["secret_encrypted", "previous_secret_encrypted"]
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class EndpointSecret:
    """An endpoint with the signing secret just generated for it, to show once."""

    endpoint: Endpoint
    plaintext: str = field(repr=False)


def _describe(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "url": display_url(endpoint.url),
        "events": list(endpoint.events),
        "client_ids": list(endpoint.client_ids),
        "cooldown_seconds": endpoint.cooldown_seconds,
    }


def _locked(endpoint: Endpoint) -> Endpoint:
    found = Endpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if found is None:
        raise NotFound(f"No webhook endpoint {endpoint}.")
    return found


@transaction.atomic
def create_endpoint(
    *,
    name: str,
    url: str,
    events: Sequence[str],
    client_ids: Sequence[str] = (),
    cooldown_seconds: int = DEFAULT_COOLDOWN_SECONDS,
    description: str = "",
    actor: Actor,
) -> EndpointSecret:
    """Create an active endpoint with a new signing secret (returned once, in plaintext)."""
    plaintext = signing.generate()
    endpoint = Endpoint(
        name=name,
        url=url,
        description=description,
        events=list(events),
        client_ids=list(client_ids),
        cooldown_seconds=cooldown_seconds,
        secret_encrypted=encryption.seal(plaintext),
    )
    endpoint.full_clean()
    endpoint.save(force_insert=True)
    record(actor, actions.ENDPOINT_CREATED, endpoint, detail=_describe(endpoint))
    return EndpointSecret(endpoint, plaintext)


@transaction.atomic
def update_endpoint(
    endpoint: Endpoint,
    *,
    actor: Actor,
    name: str | None = None,
    url: str | None = None,
    description: str | None = None,
    events: Sequence[str] | None = None,
    client_ids: Sequence[str] | None = None,
    cooldown_seconds: int | None = None,
) -> Endpoint:
    """Change the given fields (None leaves one alone). Nothing is saved or audited when the
    values, once cleaned, equal the stored ones."""
    changes = {
        "name": name,
        "url": url,
        "description": description,
        "events": events,
        "client_ids": client_ids,
        "cooldown_seconds": cooldown_seconds,
    }
    current = _locked(endpoint)
    before = {attr: getattr(current, attr) for attr in ENDPOINT_FIELDS}
    for attr, value in changes.items():
        if value is not None:
            setattr(current, attr, list(value) if attr in ("events", "client_ids") else value)
    current.full_clean()
    changed = [attr for attr in ENDPOINT_FIELDS if getattr(current, attr) != before[attr]]
    if not changed:
        return current
    current.save()
    detail = {
        attr: [_shown(attr, before[attr]), _shown(attr, getattr(current, attr))] for attr in changed
    }
    record(actor, actions.ENDPOINT_UPDATED, current, detail={"changed": detail})
    return current


def _shown(attr: str, value: Any) -> Any:
    """A field's value as the audit row keeps it: the URL without its query."""
    return display_url(value) if attr == "url" else value


@transaction.atomic
def rotate_secret(endpoint: Endpoint, *, grace: timedelta, actor: Actor) -> EndpointSecret:
    """A new signing secret; the current one keeps signing beside it for `grace` (0: stops
    now). A secret still in its grace period from an earlier rotation stops now."""
    if grace < timedelta(0):
        raise ValidationError({"grace": "The grace period cannot be negative."})
    current = _locked(endpoint)
    now = timezone.now()
    plaintext = signing.generate()
    if grace > timedelta(0):
        current.previous_secret_encrypted = current.secret_encrypted
        current.previous_secret_expires_at = now + grace
    else:
        current.previous_secret_encrypted = ""
        current.previous_secret_expires_at = None
    current.secret_encrypted = encryption.seal(plaintext)
    current.save()
    record(
        actor,
        actions.ENDPOINT_SECRET_ROTATED,
        current,
        detail={"grace_seconds": int(grace.total_seconds())},
    )
    return EndpointSecret(current, plaintext)


@transaction.atomic
def disable_endpoint(
    endpoint: Endpoint, *, reason: str, actor: Actor, automatic: bool = False
) -> Endpoint:
    """Stop sending to the endpoint. Its pending deliveries wait (enabling it resumes them);
    the other endpoints get `endpoint.disabled`. Disabling a disabled endpoint does nothing."""
    current = _locked(endpoint)
    if not current.active:
        return current
    current.active = False
    current.disabled_at = timezone.now()
    current.disabled_reason = reason[:300]
    current.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
    # The audit row is also what tells the other endpoints (webhooks/receivers.py).
    record(
        actor,
        actions.ENDPOINT_DISABLED,
        current,
        detail={"reason": current.disabled_reason, "automatic": automatic},
    )
    return current


@transaction.atomic
def enable_endpoint(endpoint: Endpoint, *, actor: Actor) -> Endpoint:
    """Send to the endpoint again; its pending deliveries are due at once, with fresh retries."""
    current = _locked(endpoint)
    if current.active:
        return current
    now = timezone.now()
    current.active = True
    current.disabled_at = None
    current.disabled_reason = ""
    current.failing_since = None
    current.save()
    resumed = Delivery.objects.filter(endpoint=current, status=Delivery.Status.PENDING).update(
        next_attempt_at=now, attempts=0, first_failed_at=None
    )
    record(actor, actions.ENDPOINT_ENABLED, current, detail={"resumed": resumed})
    return current


@transaction.atomic
def delete_endpoint(endpoint: Endpoint, *, actor: Actor) -> None:
    """Delete the endpoint and its delivery log (events other endpoints got stay)."""
    current = _locked(endpoint)
    detail = _describe(current)
    object_id, object_repr = str(current.pk), str(current)
    _, deleted = current.delete()
    detail["deliveries"] = deleted.get(Delivery._meta.label, 0)
    record(
        actor,
        actions.ENDPOINT_DELETED,
        object_type=Endpoint._meta.label_lower,
        object_id=object_id,
        object_repr=object_repr,
        detail=detail,
    )


@transaction.atomic
def redeliver(deliveries: Iterable[Delivery], *, actor: Actor) -> int:
    """Queue the deliveries again, due now, with fresh retries and the same `webhook-id`
    (receivers that deduplicate by id see the same message). Endpoints must be active."""
    ids = [d.pk for d in deliveries]
    rows = list(
        Delivery.objects.select_for_update(of=("self",))
        .select_related("endpoint", "event")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    inactive = sorted({d.endpoint.name for d in rows if not d.endpoint.active})
    if inactive:
        raise Conflict(
            f"Enable {', '.join(inactive)} first: a disabled endpoint gets no deliveries."
        )
    now = timezone.now()
    Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
        status=Delivery.Status.PENDING,
        attempts=0,
        queued_at=now,
        next_attempt_at=now,
        first_failed_at=None,
    )
    for delivery in rows:
        record(
            actor,
            actions.DELIVERIES_REDELIVERED,
            delivery.endpoint,
            detail={
                "delivery": delivery.pk,
                "message_id": delivery.event.message_id,
                "type": delivery.event.type,
                "was": delivery.status,
            },
        )
    return len(rows)


@transaction.atomic
def send_test(endpoint: Endpoint, *, actor: Actor) -> Delivery:
    """Queue a `webhook.test` event for this endpoint alone (whatever events it wants)."""
    current = _locked(endpoint)
    if not current.active:
        raise Conflict(f"{current} is disabled: enable it to send to it.")
    now = timezone.now()
    data = {
        "endpoint": {"id": current.pk, "name": current.name},
        "message": "A test webhook from Gatekeeper.",
        "actor": str(actor),
    }
    event = outbox.queue(EventType.TEST, data, at=now, client_id=None, endpoints=[current])
    record(actor, actions.TEST_SENT, current, detail={"message_id": event.message_id})
    return Delivery.objects.select_related("event", "endpoint").get(event=event)


def get_endpoint(name_or_id: str) -> Endpoint:
    """The endpoint with this name (any case) or numeric id; NotFound otherwise."""
    query = Endpoint.objects.filter(name__iexact=name_or_id)
    if name_or_id.isdigit():
        query = query | Endpoint.objects.filter(pk=int(name_or_id))
    found = query.first()
    if found is None:
        raise NotFound(f"No webhook endpoint is named {name_or_id!r} or has that id.")
    return found


@transaction.atomic
def reencrypt_secrets(*, actor: Actor) -> int:
    """Seal every endpoint secret again with the first key in GATEKEEPER_SECRET_KEYS (run it
    with `reencrypt_secrets` after putting a new key first)."""
    endpoints = list(Endpoint.objects.select_for_update().order_by("pk"))
    for endpoint in endpoints:
        endpoint.secret_encrypted = encryption.reencrypt(endpoint.secret_encrypted)
        if endpoint.previous_secret_encrypted:
            endpoint.previous_secret_encrypted = encryption.reencrypt(
                endpoint.previous_secret_encrypted
            )
    Endpoint.objects.bulk_update(endpoints, SECRET_REENCRYPT_FIELDS)
    record(
        actor,
        actions.ENDPOINT_SECRETS_REENCRYPTED,
        object_type=Endpoint._meta.label_lower,
        detail={"count": len(endpoints)},
    )
    return len(endpoints)


def prunable(before: datetime) -> dict[str, QuerySet]:
    """What `prune` deletes: deliveries that ended (delivered or failed) and were queued
    before `before`, events none of whose deliveries is left, cooldowns over by then.
    Pending deliveries stay, however old: they are still owed."""
    return {
        "deliveries": Delivery.objects.filter(queued_at__lt=before).exclude(
            status=Delivery.Status.PENDING
        ),
        "events": Event.objects.filter(created_at__lt=before, deliveries__isnull=True),
        "cooldowns": Cooldown.objects.filter(until__lt=before),
    }


def prune(*, before: datetime, actor: Actor, batch_size: int = PRUNE_BATCH) -> dict[str, int]:
    """Delete what `prunable` names, in batches that commit one by one (writers of new rows
    are never held up long), then audit the counts. Deliveries go first, so their events are
    left without any and go too."""
    deleted = {}
    for kind in ("deliveries", "events", "cooldowns"):
        rows = prunable(before)[kind].order_by()
        total = 0
        while ids := list(rows.values_list("pk", flat=True)[:batch_size]):
            total += rows.model.objects.filter(pk__in=ids).delete()[0]
        deleted[kind] = total
    if any(deleted.values()):
        record(
            actor,
            actions.PRUNED,
            object_type=Delivery._meta.label_lower,
            detail={"before": before.isoformat(), "deleted": deleted},
        )
    return deleted
