"""`credential.expiring`: once per credential, GATEKEEPER_WEBHOOK_EXPIRING_DAYS before it
expires. The worker looks every minute; an `ExpiryNotice` row remembers that a credential's
notice went out, so restarts and several workers never send it twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from clients.models import Credential
from webhooks import outbox
from webhooks.models import EventType, ExpiryNotice
from webhooks.payloads import client_ref, credential_ref, iso

BATCH = 500


def scan(*, now: datetime, days: int) -> int:
    """Queue `credential.expiring` for live credentials expiring within `days`; returns how
    many credentials got their notice now."""
    due = (
        Credential.objects.live(now)
        .filter(expires_at__lte=now + timedelta(days=days))
        .exclude(pk__in=ExpiryNotice.objects.values("credential_id"))
        .select_related("client")
        .order_by("expires_at")[:BATCH]
    )
    noticed = 0
    for credential in due:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    ExpiryNotice.objects.create(credential=credential)
            except IntegrityError:
                continue  # another worker noticed it first
            client_id = str(credential.client_id)
            data = {
                "client": client_ref(client_id, credential.client.name),
                "credential": credential_ref(credential),
                "expires_at": iso(credential.expires_at),
                "expires_in_seconds": int((credential.expires_at - now).total_seconds()),
            }
            outbox.emit(EventType.CREDENTIAL_EXPIRING, data, at=now, client_id=client_id)
        noticed += 1
    return noticed
