"""API tokens: how automation calls the REST admin API, on behalf of a staff user."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clients.models import DIGEST_REGEX


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self, at: datetime | None = None) -> ApiTokenQuerySet:
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=at)


class ApiToken(models.Model):
    """A token `gka_<prefix>_<secret>` that acts as its user, with that user's permissions
    (and only reads, when `read_only`). Stored as a digest; the plaintext is shown once.
    `__str__` shows the prefix, never the digest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=32, editable=False)
    digest = models.CharField(max_length=200, editable=False)
    label = models.CharField(max_length=100, blank=True)
    read_only = models.BooleanField(
        default=False, help_text="Only reads (and the explanation of a request): no change."
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"
        constraints = [
            # A presented token is looked up by its prefix, then its digest is compared.
            models.UniqueConstraint(fields=["prefix"], name="api_apitoken_prefix_uniq"),
            models.UniqueConstraint(fields=["digest"], name="api_apitoken_digest_uniq"),
            models.CheckConstraint(
                condition=Q(digest__regex=DIGEST_REGEX), name="api_apitoken_digest_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_live(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.expires_at > at
