"""Clients (who calls) and their credentials (how they prove it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

# Client names travel in the X-Auth-Client-Name header and on command lines: keep them plain.
CLIENT_NAME_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Digests name their algorithm, so several live side by side: `sha256$<hex>` for generated keys,
# `hmac-sha256$<pepper id>$<hex>` for imported ones (clients/keys.py).
DIGEST_REGEX = r"^[a-z0-9-]+\$([0-9a-f]+\$)?[0-9a-f]+$"


class ClientQuerySet(models.QuerySet["Client"]):
    def with_live_counts(self, at: datetime | None = None) -> ClientQuerySet:
        """Annotate `live_api_keys` and `live_hmac_secrets`: one query for a whole list."""
        at = at or timezone.now()

        def live_count(kind: str) -> Coalesce:
            counts = (
                Credential.objects.live(at)
                .filter(client=OuterRef("pk"), kind=kind)
                .order_by()
                .values("client")
                .annotate(n=Count("pk"))
                .values("n")
            )
            return Coalesce(Subquery(counts), 0)

        return self.annotate(
            live_api_keys=live_count(Credential.Kind.API_KEY),
            live_hmac_secrets=live_count(Credential.Kind.HMAC),
        )


class Client(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        REVOKED = "revoked"

    # Sent by HMAC clients as client_id and to backends as X-Auth-Client-ID: keep it stable.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(
        max_length=100, help_text="Letters, digits, '.', '_' and '-'; unique, case-insensitive."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="clients_client_name_uniq",
                violation_error_message="A client with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(name__regex=CLIENT_NAME_REGEX) & ~Q(name__contains="\n"),
                name="clients_client_name_format",
                violation_error_message=(
                    "A client name starts with a letter or digit and holds only letters, "
                    "digits, '.', '_' and '-'."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "revoked"]),
                name="clients_client_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CredentialQuerySet(models.QuerySet["Credential"]):
    def live(self, at: datetime | None = None) -> CredentialQuerySet:
        """Credentials that authenticate at `at` (default now): not revoked, not expired."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class Credential(models.Model):
    """An API key (stored as a digest) or an HMAC secret (stored encrypted).

    The plaintext of a key exists only in the return value of the service that issued it.
    `__str__` shows the display prefix, never the digest or the sealed secret.
    """

    class Kind(models.TextChoices):
        API_KEY = "api_key", "API key"
        HMAC = "hmac", "HMAC secret"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    prefix = models.CharField(max_length=32, help_text="Public part, for recognising the key.")
    # NULL for HMAC rows: unique digests must allow many of them (""s would collide).
    digest = models.CharField(max_length=200, null=True, blank=True, editable=False)  # noqa: DJ001
    secret_encrypted = models.TextField(blank=True, editable=False)
    label = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["client", "-created_at"]
        constraints = [
            # API keys are looked up by digest, so one digest names one credential.
            # NULL (HMAC rows) is distinct from NULL on both PostgreSQL and SQLite.
            models.UniqueConstraint(
                fields=["digest"],
                name="clients_credential_digest_uniq",
                violation_error_message="This API key is already in use.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["api_key", "hmac"]), name="clients_credential_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    # IS NOT NULL first: a regex test on NULL is unknown, and CHECK lets
                    # unknown pass.
                    Q(
                        kind="api_key",
                        digest__isnull=False,
                        digest__regex=DIGEST_REGEX,
                        secret_encrypted="",
                    )
                    | Q(kind="hmac", digest__isnull=True) & ~Q(secret_encrypted="")
                ),
                name="clients_credential_kind_storage",
                violation_error_message=(
                    "An API key stores only a digest; an HMAC secret only its encrypted form."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.prefix}…"

    def is_live(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > at
