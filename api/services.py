"""Issuing and revoking API tokens: atomic, audited, the plaintext returned once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api import tokens
from api.models import ApiToken
from audit.services import record
from core.actor import Actor
from core.errors import Conflict


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str = field(repr=False)


def _detail(token: ApiToken) -> dict[str, object]:
    return {
        "user": token.user.get_username(),
        "prefix": token.prefix,
        "label": token.label,
        "read_only": token.read_only,
        "expires_at": token.expires_at.isoformat(),
    }


@transaction.atomic
def issue_token(
    user: AbstractBaseUser,
    *,
    actor: Actor,
    label: str = "",
    read_only: bool = False,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """A new token for a staff user: valid until `expires_at` (default
    GATEKEEPER_API_TOKEN_DAYS from now, at most GATEKEEPER_API_TOKEN_MAX_DAYS)."""
    now = timezone.now()
    if not (user.is_active and user.is_staff):
        raise ValidationError({"user": "API tokens are for active staff users only."})
    if expires_at is None:
        expires_at = now + timedelta(days=settings.GATEKEEPER_API_TOKEN_DAYS)
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if expires_at > now + timedelta(days=settings.GATEKEEPER_API_TOKEN_MAX_DAYS):
        raise ValidationError(
            {
                "expires_at": "A token may be valid for at most "
                f"{settings.GATEKEEPER_API_TOKEN_MAX_DAYS} days."
            }
        )
    plaintext, prefix, digest = tokens.generate()
    token = ApiToken(
        user=user,
        prefix=prefix,
        digest=digest,
        label=label,
        read_only=read_only,
        expires_at=expires_at,
    )
    token.full_clean(exclude=["user"], validate_constraints=False)
    token.save(force_insert=True)
    record(actor, "api_token.issued", token, detail=_detail(token))
    return IssuedToken(token, plaintext)


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: Actor) -> ApiToken:
    """Stop a token working now. Revoking a revoked token is a Conflict."""
    locked = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if locked.revoked_at is not None:
        raise Conflict(f"API token {locked.prefix} is already revoked.")
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record(actor, "api_token.revoked", locked, detail=_detail(locked))
    return locked
