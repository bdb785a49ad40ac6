"""Webhook endpoints, the events for them (the outbox), and each event's delivery to each one.

An `Event` and its `Delivery` rows are written in the transaction of the change they describe
(or, for decision-driven events, of the decision process's hand-off), so a rolled-back change
leaves none and a committed one always has them. The worker (`deliver_webhooks`) sends what
is due and writes each attempt's outcome back onto the delivery.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from clients import encryption
from clients.models import CLIENT_NAME_REGEX, Credential
from webhooks import destinations

DEFAULT_COOLDOWN_SECONDS = 300
MAX_COOLDOWN_SECONDS = 7 * 86400


class EventType(models.TextChoices):
    """The stable event names (README "Webhooks"). Receivers switch on these strings."""

    CLIENT_CREATED = "client.created"
    CLIENT_STATUS_CHANGED = "client.status_changed"
    CLIENT_DELETED = "client.deleted"
    CREDENTIAL_ISSUED = "credential.issued"
    CREDENTIAL_ROTATED = "credential.rotated"
    CREDENTIAL_REVOKED = "credential.revoked"
    CREDENTIAL_EXPIRING = "credential.expiring"
    CREDENTIAL_EXPIRED_USED = "credential.expired_used"
    PERMISSION_GRANTED = "permission.granted"
    PERMISSION_REVOKED = "permission.revoked"
    ROUTE_CHANGED = "route.changed"
    CONFIG_APPLIED = "config.applied"
    RATE_LIMIT_EXCEEDED = "rate_limit.exceeded"
    AUTH_FAILURES_THRESHOLD = "auth_failures.threshold"
    ENDPOINT_DISABLED = "endpoint.disabled"
    # Sent by `send_test_webhook` and the admin's action to one endpoint, whatever it wants.
    TEST = "webhook.test"

    @classmethod
    def subscribable(cls) -> list[EventType]:
        return [t for t in cls if t is not cls.TEST]


# Driven by decisions: one per (endpoint, type, client) per the endpoint's cooldown.
DECISION_EVENTS = frozenset(
    {
        EventType.RATE_LIMIT_EXCEEDED,
        EventType.AUTH_FAILURES_THRESHOLD,
        EventType.CREDENTIAL_EXPIRED_USED,
    }
)


def new_message_id() -> str:
    """The `webhook-id` of an event: the same on every retry, unique across events."""
    return f"msg_{uuid.uuid4().hex}"


class Endpoint(models.Model):
    """A URL that receives the events it asks for, signed with its own secret."""

    name = models.CharField(
        max_length=100, help_text="Letters, digits, '.', '_' and '-'; unique, case-insensitive."
    )
    url = models.CharField(
        "URL",
        max_length=2000,
        help_text="http:// or https://; public addresses only (see the README's safety rules).",
    )
    description = models.TextField(blank=True)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    client_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Only events about these clients (ids); empty: every client. Events that "
        "concern no client (routes, config applies, endpoints) are always sent.",
    )
    cooldown_seconds = models.PositiveIntegerField(
        "cooldown (seconds)",
        default=DEFAULT_COOLDOWN_SECONDS,
        help_text="At most one rate_limit.exceeded, auth_failures.threshold or "
        "credential.expired_used per client within this time.",
    )
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Set by the first failed attempt after a success, cleared by the next success.
    failing_since = models.DateTimeField(null=True, blank=True)
    secret_encrypted = models.TextField(editable=False)
    # During a rotation's grace period the previous secret signs too.
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="webhooks_endpoint_name_uniq",
                violation_error_message="An endpoint with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(name__regex=CLIENT_NAME_REGEX) & ~Q(name__contains="\n"),
                name="webhooks_endpoint_name_format",
                violation_error_message=(
                    "A name starts with a letter or digit and holds only letters, digits, "
                    "'.', '_' and '-'."
                ),
            ),
            models.CheckConstraint(
                condition=Q(cooldown_seconds__gte=1, cooldown_seconds__lte=MAX_COOLDOWN_SECONDS),
                name="webhooks_endpoint_cooldown_range",
                violation_error_message="The cooldown is from 1 second to 7 days.",
            ),
            models.CheckConstraint(
                condition=~Q(secret_encrypted=""), name="webhooks_endpoint_has_secret"
            ),
            models.CheckConstraint(
                condition=Q(previous_secret_encrypted="", previous_secret_expires_at=None)
                | (~Q(previous_secret_encrypted="") & Q(previous_secret_expires_at__isnull=False)),
                name="webhooks_endpoint_previous_secret_has_deadline",
            ),
            models.CheckConstraint(
                condition=Q(active=False) | Q(disabled_at=None),
                name="webhooks_endpoint_active_not_disabled",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            destinations.validate_url(self.url)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        events = self.events if isinstance(self.events, list) else None
        known = set(EventType.subscribable())
        if not events:
            errors["events"] = ["Choose at least one event type."]
        elif unknown := [e for e in events if e not in known]:
            errors["events"] = [f"Unknown event types: {', '.join(map(str, unknown))}."]
        if not isinstance(self.client_ids, list):
            errors["client_ids"] = ["A list of client ids."]
        else:
            try:
                self.client_ids = sorted({str(uuid.UUID(str(c))) for c in self.client_ids})
            except ValueError:
                errors["client_ids"] = ["Every client id is a UUID."]
        if errors:
            raise ValidationError(errors)
        self.events = [t.value for t in EventType.subscribable() if t in events]

    def wants(self, event_type: str, client_id: str | None) -> bool:
        """Whether an event of `event_type` about `client_id` (None: no client) goes here."""
        if event_type not in self.events:
            return False
        return client_id is None or not self.client_ids or client_id in self.client_ids

    def signing_secrets(self, at: datetime) -> list[str]:
        """The secrets that sign now, newest first (plaintext: never log or show them)."""
        current = [encryption.unseal(self.secret_encrypted)]
        if self.previous_secret_encrypted and self.previous_secret_expires_at > at:
            current.append(encryption.unseal(self.previous_secret_encrypted))
        return current


class Event(models.Model):
    """Something that happened, once, whatever number of endpoints receive it."""

    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    type = models.CharField(max_length=40, choices=EventType.choices)
    created_at = models.DateTimeField()
    # The client it concerns (for endpoints' client filters); no foreign key: a deleted
    # client's events outlive it.
    client_id = models.UUIDField(null=True, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class Delivery(models.Model):
    """One event to one endpoint: the outbox row the worker sends, and its log."""

    class Status(models.TextChoices):
        PENDING = "pending"  # due at next_attempt_at (or being sent: then that is its lease)
        DELIVERED = "delivered"
        FAILED = "failed"  # gave up: retries used up, 410, or the endpoint went away

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Attempts since it was queued (or redelivered); they pick the next wait in the schedule.
    attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When its first attempt failed: if the endpoint has taken nothing since, and this one
    # runs out of retries, the endpoint has failed for a whole retry period.
    first_failed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField("response time (ms)", null=True, blank=True)
    response_excerpt = models.TextField(blank=True)  # the first bytes of the response body
    error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="webhooks_delivery_event_endpoint_uniq"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", next_attempt_at__isnull=False)
                | Q(status__in=["delivered", "failed"], next_attempt_at=None),
                name="webhooks_delivery_pending_has_time",
            ),
        ]
        indexes = [
            # The worker's question: pending deliveries, the most overdue first.
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due_idx",
                condition=Q(status="pending"),
            ),
            # The endpoint page's delivery log, newest first.
            models.Index(fields=["endpoint", "-queued_at"], name="webhooks_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint.name}"


class Cooldown(models.Model):
    """Until when an endpoint gets no other decision-driven event of a type about a client."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    client_id = models.UUIDField()
    until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_type", "client_id"], name="webhooks_cooldown_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.client_id} until {self.until:%Y-%m-%d %H:%M:%S}"


class ExpiryNotice(models.Model):
    """`credential.expiring` went out for this credential (it goes once per credential)."""

    credential = models.OneToOneField(Credential, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"expiry notice for credential {self.credential_id}"
