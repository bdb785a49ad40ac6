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


@checks.register(checks.Tags.caches, deploy=True)
def check_redis_keeps_nonces(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The Redis that holds nonces and rate-limit counters must never evict them, and must
    know the commands used (`manage.py check --deploy`; the decision server checks at start)."""
    if not settings.REDIS_URL:
        return []
    from authz import redis_server

    try:
        facts = redis_server.inspect(redis_server.connect(settings.REDIS_URL, timeout=2.0))
    except redis_server.RedisTooOld as exc:
        return [checks.Critical(str(exc), id="authz.E003")]
    except Exception as exc:
        return [
            checks.Warning(
                f"Redis at REDIS_URL cannot be asked ({type(exc).__name__}).",
                hint="The decision server needs it for HMAC nonces and rate limits.",
                id="authz.W001",
            )
        ]
    if facts.warning:
        return [
            checks.Warning(
                facts.warning,
                hint="CONFIG SET maxmemory-policy noeviction (and in redis.conf).",
                id="authz.W002",
            )
        ]
    return []
