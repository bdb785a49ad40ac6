"""Who is calling the API: an API token (`Authorization: Bearer gka_...`), else DRF's session
authentication (a logged-in staff member's browser, with CSRF on writes).

Guessing tokens is throttled per client address: after GATEKEEPER_API_TOKEN_FAILURES failed
tokens from one address within GATEKEEPER_API_TOKEN_FAILURE_WINDOW seconds, that address is
answered 429 before any token it sends is looked at. The counter lives in the shared cache
(atomic `add` + `incr`), so every admin process counts together. A token of the wrong shape
costs as much as a wrong one (a digest is computed either way).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api import tokens
from api.models import ApiToken
from clients import keys
from core.actor import Actor
from dashboard.login_guard import client_ip

KEYWORD = "bearer"
# A missing or stale "last used" is harmless; writing it on every call is not needed.
LAST_USED_RESOLUTION = 60


def _failures_key(address: str) -> str:
    return f"gatekeeper:api-token-failures:{address}"


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[object, ApiToken] | None:
        scheme, _, presented = authentication.get_authorization_header(request).partition(b" ")
        if scheme.lower() != KEYWORD.encode():
            return None
        address = client_ip(request._request)
        window = settings.GATEKEEPER_API_TOKEN_FAILURE_WINDOW
        failures = cache.get(_failures_key(address)) or 0
        if failures >= settings.GATEKEEPER_API_TOKEN_FAILURES:
            raise exceptions.Throttled(wait=window, detail="Too many failed API tokens.")
        token = self._lookup(presented.strip().decode("latin-1"))
        if token is None:
            # Atomic across processes; the window starts at the first failure.
            cache.add(_failures_key(address), 0, timeout=window)
            try:
                cache.incr(_failures_key(address))
            except ValueError:
                cache.set(_failures_key(address), 1, timeout=window)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        self._touch(token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="gatekeeper-api"'

    @staticmethod
    def _lookup(presented: str) -> ApiToken | None:
        prefix = tokens.display_prefix(presented)
        token = (
            ApiToken.objects.select_related("user").filter(prefix=prefix).first()
            if prefix is not None
            else None
        )
        # Compare (or hash for nothing) either way: a miss costs what a wrong token costs.
        stored = token.digest if token is not None else keys.digest("")
        if not tokens.matches(presented, stored) or token is None:
            return None
        user = token.user
        if not token.is_live() or not (user.is_active and user.is_staff):
            return None
        return token

    @staticmethod
    def _touch(token: ApiToken) -> None:
        now = timezone.now()
        last = token.last_used_at
        if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def actor_for(request: Request) -> Actor:
    """Who the audit trail names: `api:<user>/<token prefix>` for a token, else the staff
    user of the session (`user:<name>`, as in the admin)."""
    if isinstance(request.auth, ApiToken):
        return Actor.api_token(request.user.get_username(), request.auth.prefix)
    return Actor.from_request(request)
