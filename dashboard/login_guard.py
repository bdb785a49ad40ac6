"""The admin login's brute-force protection (django-axes): whose address, and the audit row.

Behind a reverse proxy the peer is the proxy, so every staff member would share one lockout.
When the peer is a proxy in GATEKEEPER_TRUSTED_PROXIES, the client is the *last* entry of
`X-Forwarded-For`: the one that proxy appended (nginx `$proxy_add_x_forwarded_for`, Caddy's
`reverse_proxy` by default). Entries before it are whatever the client sent, so they are never
read. A peer outside that list is the client itself, whatever headers it sends.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from audit.actions import LOGIN_LOCKED_OUT
from audit.services import record
from core.actor import Actor
from core.networks import parse_networks, peer_in

ACTOR = Actor.system("axes")


def client_ip(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    if not peer_in(peer, parse_networks(settings.GATEKEEPER_TRUSTED_PROXIES)):
        return peer
    last = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        # Direct use from loopback (`make run`), or a proxy that sent no usable address.
        return peer


def audit_lockout(
    sender: object, *, request: HttpRequest, username: str | None, ip_address: str, **kwargs: Any
) -> None:
    """One audit row per lockout (axes signals again on every attempt while locked)."""
    who = username or ""
    marker = hashlib.sha256(f"{who}\0{ip_address}".encode()).hexdigest()
    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if not cache.add(f"gatekeeper:lockout-audited:{marker}", 1, timeout=cooloff):
        return
    record(
        ACTOR,
        LOGIN_LOCKED_OUT,
        object_type="auth.user",
        object_repr=who[:300],
        # Never the password: axes hands us only the username and the address.
        detail={
            "username": who,
            "ip_address": ip_address,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_seconds": cooloff,
        },
    )


def connect() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(audit_lockout, dispatch_uid="gatekeeper-audit-lockout")
