"""Sending deliveries: claim what is due, send it (outside any transaction), write the outcome.

- **Claim**: due deliveries to active endpoints are locked with `SKIP LOCKED` (several workers
  never take the same one), their attempt is counted and their `next_attempt_at` is moved a
  lease ahead, and the transaction commits before anything is sent. A worker that dies while
  sending leaves the delivery to be taken again when the lease ends: nothing is lost, and only
  what was in flight can arrive twice (receivers deduplicate by `webhook-id`).
- **Send**: signed at send time (a fresh `webhook-timestamp` per attempt, the same id and body).
- **Settle**: 2xx delivered; 410 disables the endpoint at once; anything else (another status,
  a redirect, a timeout, a refused address, a network error) is retried after the next wait in
  GATEKEEPER_WEBHOOK_RETRY_SCHEDULE, varied by up to JITTER either way so that retries of many
  deliveries spread out. After the last wait the delivery has failed; when the endpoint has not
  taken a single delivery since before that one was queued, it is disabled (sustained failure).
"""

from __future__ import annotations

import enum
import http.client
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.encryption import EncryptionError
from core.actor import Actor
from webhooks import metrics, payloads, services, signing, transport
from webhooks.destinations import RefusedDestination, display_url
from webhooks.models import Delivery, Endpoint

log = logging.getLogger(__name__)

JITTER = 0.2
# A claimed delivery is taken again after this much beyond the timeout, if its worker died.
LEASE_MARGIN = 5.0
SYSTEM = Actor.system("webhooks")


class Outcome(enum.StrEnum):
    """How one attempt ended (the `outcome` label of gatekeeper_webhook_deliveries_total)."""

    DELIVERED = "delivered"
    REJECTED = "rejected"  # an error status (not 410)
    REDIRECTED = "redirected"  # 3xx: redirects are not followed
    GONE = "gone"  # 410: the receiver asks for no more
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # DNS, connection, TLS, a broken answer
    REFUSED = "refused"  # the address is not one webhooks may go to
    UNSIGNED = "unsigned"  # the endpoint's secret cannot be decrypted (GATEKEEPER_SECRET_KEYS)


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status: int | None = None
    seconds: float | None = None
    excerpt: str = ""
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def backoff(
    attempts: int, schedule: Sequence[int], rand: Callable[[], float] = random.random
) -> float | None:
    """Seconds to wait after the `attempts`-th failed attempt; None when no retry is left."""
    if attempts > len(schedule):
        return None
    return schedule[attempts - 1] * (1 + JITTER * (2 * rand() - 1))


def lease_seconds() -> float:
    return 2 * settings.GATEKEEPER_WEBHOOK_TIMEOUT + LEASE_MARGIN


def claim(limit: int, *, now: datetime | None = None) -> list[Delivery]:
    """Take up to `limit` due deliveries for this worker (committed before they are sent)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(endpoint__active=True)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not due:
            return []
        Delivery.objects.filter(pk__in=due).update(
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            next_attempt_at=now + timedelta(seconds=lease_seconds()),
        )
    claimed = Delivery.objects.select_related("event", "endpoint").in_bulk(due)
    return [claimed[pk] for pk in due]


def claim_one(delivery: Delivery) -> Delivery | None:
    """Take this delivery now (send_test_webhook), unless it is not pending or is taken."""
    with transaction.atomic():
        found = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=delivery.pk, status=Delivery.Status.PENDING, endpoint__active=True)
            .exists()
        )
        if not found:
            return None
        Delivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1,
            last_attempt_at=timezone.now(),
            next_attempt_at=timezone.now() + timedelta(seconds=lease_seconds()),
        )
    return Delivery.objects.select_related("event", "endpoint").get(pk=delivery.pk)


def send(delivery: Delivery, *, timeout: float) -> Attempt:
    """One attempt (no database access: it runs on the worker's sending threads)."""
    event, endpoint = delivery.event, delivery.endpoint
    body = payloads.body(event.message_id, event.type, event.created_at, event.data)
    now = timezone.now()
    try:
        secrets = endpoint.signing_secrets(now)
    except EncryptionError as exc:
        # Nothing goes out unsigned; clients.E001/E002 say what is wrong with the keys.
        return Attempt(Outcome.UNSIGNED, error=str(exc))
    headers = signing.headers(secrets, event.message_id, int(now.timestamp()), body)
    try:
        response = transport.post(endpoint.url, body, headers, timeout=timeout)
    except RefusedDestination as exc:
        return Attempt(Outcome.REFUSED, error=str(exc))
    except transport.Timeout as exc:
        return Attempt(Outcome.TIMEOUT, error=str(exc))
    except (OSError, http.client.HTTPException) as exc:
        return Attempt(Outcome.UNREACHABLE, error=_network_error(exc))
    excerpt = response.body.decode("utf-8", errors="replace").replace("\x00", "")
    if 200 <= response.status < 300:
        outcome, error = Outcome.DELIVERED, ""
    elif response.status == 410:
        outcome, error = Outcome.GONE, "410 Gone: the receiver wants no more webhooks"
    elif 300 <= response.status < 400:
        target = display_url(response.location or "")
        outcome, error = Outcome.REDIRECTED, f"redirect to {target or '?'} not followed"
    else:
        outcome, error = Outcome.REJECTED, f"answered {response.status}"
    return Attempt(outcome, response.status, response.seconds, excerpt, error)


def _network_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def settle(delivery: Delivery, attempt: Attempt, *, schedule: Sequence[int]) -> Delivery.Status:
    """Write the attempt's outcome; retry, give up or disable as the rules say."""
    now = timezone.now()
    metrics.count_attempt(attempt.outcome)
    fields = {
        "response_status": attempt.status,
        "response_ms": round(attempt.seconds * 1000) if attempt.seconds is not None else None,
        "response_excerpt": attempt.excerpt,
        "error": attempt.error[:300],
    }
    with transaction.atomic():
        # Unless it changed meanwhile (a redelivery reset it): then that wins.
        mine = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.PENDING, attempts=delivery.attempts
        )
        if attempt.delivered:
            status = Delivery.Status.DELIVERED
            if mine.update(status=status, next_attempt_at=None, delivered_at=now, **fields):
                Endpoint.objects.filter(pk=delivery.endpoint_id).exclude(failing_since=None).update(
                    failing_since=None
                )
            return status
        wait = None if attempt.outcome is Outcome.GONE else backoff(delivery.attempts, schedule)
        fields["first_failed_at"] = Coalesce("first_failed_at", Value(now))
        if wait is not None:
            status = Delivery.Status.PENDING
            updated = mine.update(next_attempt_at=now + timedelta(seconds=wait), **fields)
        else:
            status = Delivery.Status.FAILED
            updated = mine.update(status=status, next_attempt_at=None, **fields)
        if not updated:
            return status
        Endpoint.objects.filter(pk=delivery.endpoint_id, failing_since=None).update(
            failing_since=now
        )
        if attempt.outcome is Outcome.GONE:
            _disable(delivery, "The receiver answered 410 Gone.")
        elif status is Delivery.Status.FAILED:
            metrics.count_given_up()
            _disable_if_failing_throughout(delivery, attempt)
    return status


def _disable_if_failing_throughout(delivery: Delivery, attempt: Attempt) -> None:
    failing_since = (
        Endpoint.objects.filter(pk=delivery.endpoint_id)
        .values_list("failing_since", flat=True)
        .first()
    )
    first_failed_at = (
        Delivery.objects.filter(pk=delivery.pk).values_list("first_failed_at", flat=True).first()
    )
    # Both times come from the same clock reading in `settle`: equal when this delivery's
    # first failure began the endpoint's failing period.
    if failing_since is not None and first_failed_at and failing_since <= first_failed_at:
        _disable(
            delivery,
            f"No delivery succeeded since {failing_since:%Y-%m-%d %H:%M:%S} UTC; "
            f"{delivery.event.type} {delivery.event.message_id} failed {delivery.attempts} "
            f"attempts (last: {attempt.error or attempt.outcome}).",
        )


def _disable(delivery: Delivery, reason: str) -> None:
    if not Endpoint.objects.filter(pk=delivery.endpoint_id, active=True).exists():
        return  # another attempt disabled it first
    endpoint = services.disable_endpoint(
        delivery.endpoint, reason=reason, actor=SYSTEM, automatic=True
    )
    metrics.count_disabled()
    log.warning("webhook endpoint %s disabled: %s", endpoint.name, endpoint.disabled_reason)


def deliver(delivery: Delivery, *, timeout: float, schedule: Sequence[int]) -> Attempt | None:
    """Send a claimed delivery and settle it (the whole attempt, in this thread). None when
    its endpoint was disabled since the claim (a 410 to an attempt beside it): then it is
    handed back unsent, to wait for the endpoint like the others."""
    if not Endpoint.objects.filter(pk=delivery.endpoint_id, active=True).exists():
        Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.PENDING, attempts=delivery.attempts
        ).update(attempts=F("attempts") - 1, next_attempt_at=timezone.now())
        return None
    attempt = send(delivery, timeout=timeout)
    settle(delivery, attempt, schedule=schedule)
    return attempt
