"""Creating, changing and deleting clients: atomic and audited (style rule 3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Lower

from audit.services import event, record, record_many
from clients.models import Client
from core.actor import Actor
from core.batches import BULK_BATCH, Batch, bump_clients
from core.errors import NotFound
from core.redaction import quote_short


def _check_status(status: str) -> None:
    if status not in Client.Status.values:
        raise ValidationError(
            {
                "status": f"{quote_short(status)} is not a status; "
                f"use {', '.join(Client.Status.values)}."
            }
        )


@dataclass(frozen=True)
class NewClient:
    name: str
    status: str = Client.Status.ACTIVE
    description: str = ""
    # Pass an id to keep the one an HMAC client already signs with.
    id: uuid.UUID | None = None


def create_client(
    *,
    name: str,
    status: str = Client.Status.ACTIVE,
    description: str = "",
    client_id: uuid.UUID | None = None,
    actor: Actor,
) -> Client:
    """Create a client. Pass `client_id` to keep the id an HMAC client already signs with."""
    return create_clients([NewClient(name, status, description, client_id)], actor=actor).one()


@transaction.atomic
def create_clients(items: Sequence[NewClient], *, actor: Actor) -> Batch[Client]:
    """Create many clients at once (the config file's bulk path): each checked as
    `create_client` checks one, also against the others of the batch (names compare in any
    case); the valid ones written in a few statements with one audit row each."""
    batch: Batch[Client] = Batch()
    names = {item.name.lower() for item in items if isinstance(item.name, str)}
    ids = {item.id for item in items if item.id is not None}
    taken_names = set(
        Client.objects.annotate(lower=Lower("name"))
        .filter(lower__in=names)
        .values_list("lower", flat=True)
    )
    taken_ids = set(Client.objects.filter(pk__in=ids).values_list("pk", flat=True))
    valid: list[tuple[int, Client]] = []
    for index, item in enumerate(items):
        client = Client(name=item.name, status=item.status, description=item.description)
        if item.id is not None:
            client.id = item.id
        errors: dict[str, Any] = {}
        try:
            _check_status(item.status)
            # Not full_clean: its uniqueness checks are a query each; the sets above do it once.
            client.clean_fields()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if "name" not in errors and client.name.lower() in taken_names:
            errors["name"] = ["A client with this name already exists."]
        if client.pk in taken_ids:
            errors["id"] = ["A client with this id already exists."]
        if errors:
            batch.errors[index] = ValidationError(errors)
            continue
        taken_names.add(client.name.lower())
        taken_ids.add(client.pk)
        valid.append((index, client))
    Client.objects.bulk_create([client for _, client in valid], batch_size=BULK_BATCH)
    record_many(
        [
            event(
                actor,
                "client.created",
                client,
                detail={"name": client.name, "status": client.status},
            )
            for _, client in valid
        ]
    )
    bump_clients(client.pk for _, client in valid)
    batch.done.update(valid)
    return batch


@transaction.atomic
def update_client(
    client: Client, *, actor: Actor, name: str | None = None, description: str | None = None
) -> Client:
    """Change the given fields; nothing is saved or audited when nothing changes."""
    changes = {
        attr: value
        for attr, value in (("name", name), ("description", description))
        if value is not None and getattr(client, attr) != value
    }
    if not changes:
        return client
    before = {attr: getattr(client, attr) for attr in changes}
    for attr, value in changes.items():
        setattr(client, attr, value)
    client.full_clean()
    client.save(update_fields=[*changes, "updated_at"])
    record(
        actor,
        "client.updated",
        client,
        detail={attr: {"from": before[attr], "to": value} for attr, value in changes.items()},
    )
    return client


@transaction.atomic
def set_client_status(client: Client, status: str, *, actor: Actor) -> Client:
    """Set the status; a client that already has it is left alone (no audit row)."""
    _check_status(status)
    # Read the stored status under a lock: the caller's instance may already carry the new one.
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if locked.status == status:
        return locked
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    record(actor, "client.status_set", locked, detail={"from": before, "to": status})
    return locked


@transaction.atomic
def delete_client(client: Client, *, actor: Actor) -> None:
    """Delete the client, its credentials and everything else that hangs off it."""
    by_kind = dict(
        client.credentials.order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    object_id, object_repr = str(client.pk), str(client)
    _, deleted = client.delete()
    record(
        actor,
        "client.deleted",
        object_type=Client._meta.label_lower,
        object_id=object_id,
        object_repr=object_repr,
        detail={"name": object_repr, "credentials": by_kind, "deleted": deleted},
    )


def get_client(name_or_id: str) -> Client:
    """The client with this name (any case) or this id; NotFound otherwise."""
    try:
        return Client.objects.get(pk=uuid.UUID(name_or_id))
    except (ValueError, Client.DoesNotExist):
        pass
    try:
        return Client.objects.get(name__iexact=name_or_id)
    except Client.DoesNotExist:
        raise NotFound(f"No client has the name or id {quote_short(name_or_id)}.") from None
