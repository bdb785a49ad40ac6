"""What each event says: the `data` of its payload, built from the audit row of the change
(configuration events) or from what a decision process handed on (decision events).

The shapes are part of the contract with receivers (README "Webhooks"): fields are added,
never renamed. They never hold a secret: audit rows hold none (audit/services.py), and a
credential is named by id, kind, display prefix and label only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.actions import CONFIG_APPLIED
from audit.models import AuditEvent
from clients.models import Credential
from permissions.models import Permission
from webhooks import actions
from webhooks.models import EventType

# Audit actions that are events, and the event each one is.
AUDIT_EVENTS: dict[str, EventType] = {
    "client.created": EventType.CLIENT_CREATED,
    "client.status_set": EventType.CLIENT_STATUS_CHANGED,
    "client.deleted": EventType.CLIENT_DELETED,
    "credential.issued": EventType.CREDENTIAL_ISSUED,
    "credential.rotated": EventType.CREDENTIAL_ROTATED,
    "credential.revoked": EventType.CREDENTIAL_REVOKED,
    "permission.granted": EventType.PERMISSION_GRANTED,
    # Taking some methods away is revoking those methods.
    "permission.narrowed": EventType.PERMISSION_REVOKED,
    "permission.revoked": EventType.PERMISSION_REVOKED,
    "route.created": EventType.ROUTE_CHANGED,
    "route.updated": EventType.ROUTE_CHANGED,
    "route.methods_set": EventType.ROUTE_CHANGED,
    "route.deleted": EventType.ROUTE_CHANGED,
    CONFIG_APPLIED: EventType.CONFIG_APPLIED,
    actions.ENDPOINT_DISABLED: EventType.ENDPOINT_DISABLED,
}


@dataclass(frozen=True)
class Described:
    data: dict[str, Any]
    client_id: str | None = None  # the client it concerns, for endpoints' client filters


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def body(message_id: str, event_type: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The request body: UTF-8 JSON `{id, type, timestamp, data}`, the same bytes on every
    attempt (they are what the signature covers)."""
    payload = {"id": message_id, "type": event_type, "timestamp": iso(created_at), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def client_ref(client_id: str | None, name: str) -> dict[str, Any]:
    return {"id": client_id, "name": name}


def from_audit(row: AuditEvent, event_type: EventType) -> Described:
    """The event an audit row stands for (the row was just written, in this transaction)."""
    detail = row.detail or {}
    if event_type in (
        EventType.CLIENT_CREATED,
        EventType.CLIENT_STATUS_CHANGED,
        EventType.CLIENT_DELETED,
    ):
        return _client_event(row, event_type, detail)
    if event_type in (
        EventType.CREDENTIAL_ISSUED,
        EventType.CREDENTIAL_ROTATED,
        EventType.CREDENTIAL_REVOKED,
    ):
        return _credential_event(row, event_type, detail)
    if event_type in (EventType.PERMISSION_GRANTED, EventType.PERMISSION_REVOKED):
        return _permission_event(row, detail)
    if event_type is EventType.ROUTE_CHANGED:
        return Described(
            {
                "route": {
                    "id": int(row.object_id) if row.object_id else None,
                    "domain": detail.get("domain"),
                    "pattern": detail.get("pattern"),
                },
                "change": row.action.partition(".")[2],
                "methods": detail.get("methods"),
                "changed": detail.get("changed"),
                "actor": row.actor,
            }
        )
    if event_type is EventType.CONFIG_APPLIED:
        counts = {k: detail.get(k, 0) for k in ("created", "updated", "deleted", "unchanged")}
        return Described({"counts": counts, "actor": row.actor})
    if event_type is EventType.ENDPOINT_DISABLED:
        return Described(
            {
                "endpoint": {"id": int(row.object_id), "name": row.object_repr},
                "reason": detail.get("reason", ""),
                "automatic": detail.get("automatic", False),
                "actor": row.actor,
            }
        )
    raise ValueError(f"{row.action} is not an event")


def _client_event(row: AuditEvent, event_type: EventType, detail: dict) -> Described:
    client = client_ref(row.object_id, detail.get("name") or row.object_repr)
    data: dict[str, Any] = {"client": client}
    if event_type is EventType.CLIENT_CREATED:
        data["status"] = detail.get("status")
    elif event_type is EventType.CLIENT_STATUS_CHANGED:
        data["from"], data["to"] = detail.get("from"), detail.get("to")
    data["actor"] = row.actor
    return Described(data, row.object_id)


def credential_ref(credential: Credential) -> dict[str, Any]:
    return {
        "id": credential.pk,
        "kind": credential.kind,
        "prefix": credential.prefix,
        "label": credential.label,
        "expires_at": iso(credential.expires_at),
        "revoked_at": iso(credential.revoked_at),
    }


def _credential_event(row: AuditEvent, event_type: EventType, detail: dict) -> Described:
    credential = Credential.objects.select_related("client").get(pk=row.object_id)
    client_id = str(credential.client_id)
    data: dict[str, Any] = {
        "client": client_ref(client_id, credential.client.name),
        "credential": credential_ref(credential),
    }
    if event_type is EventType.CREDENTIAL_ISSUED:
        data["imported"] = bool(detail.get("imported"))
    elif event_type is EventType.CREDENTIAL_ROTATED:
        data["grace_seconds"] = detail.get("grace_seconds")
        data["retiring"] = detail.get("retiring", [])
    data["actor"] = row.actor
    return Described(data, client_id)


def _permission_event(row: AuditEvent, detail: dict) -> Described:
    # The permission still exists: services write the audit row before deleting it.
    permission = Permission.objects.select_related("client", "route").get(pk=row.object_id)
    client_id = str(permission.client_id)
    route = permission.route
    methods = list(detail.get("methods", []))
    previous = list(detail.get("previous", []))
    data = {
        "client": client_ref(client_id, permission.client.name),
        "route": {"id": route.pk, "domain": route.domain, "pattern": route.pattern},
        "methods": methods,
        "previous": previous,
    }
    if row.action != "permission.granted":
        data["removed"] = [m for m in previous if m not in methods]
    data["actor"] = row.actor
    return Described(data, client_id)
