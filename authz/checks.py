"""Deployment checks for the decision service (stable ids; see `manage.py check`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


@checks.register(checks.Tags.security)
def check_debug_only_on_loopback(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """DEBUG pages show settings and tracebacks: never serve them beyond this machine."""
    if not settings.DEBUG:
        return []
    exposed = [host for host in settings.ALLOWED_HOSTS if host not in LOOPBACK_HOSTS]
    if not exposed:
        return []
    return [
        checks.Critical(
            f"DEBUG is on while ALLOWED_HOSTS serves {', '.join(exposed)}.",
            hint="Set DEBUG=false, or keep ALLOWED_HOSTS to localhost/127.0.0.1/[::1].",
            id="authz.E001",
        )
    ]
