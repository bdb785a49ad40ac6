"""A decision as the proxy receives it: status, headers and (sometimes) a small body.

For nginx and ingress-nginx only 200, 401 and 403, with empty bodies (nginx turns any other
status into a 500, and a body costs the keepalive connection); for proxies that pass the
decider's answer to the client, denials carry `{"error": "<reason>"}`. An internal fault
answers 500 and denies (fail closed) everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from authz.engine import Decision
from authz.reasons import Reason

INTERNAL_ERROR = "internal_error"

_CHALLENGES = {
    "api_key": 'Bearer realm="gatekeeper"',
    "hmac": 'HMAC realm="gatekeeper"',
    "any": 'Bearer realm="gatekeeper", HMAC realm="gatekeeper"',
}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


def cache_for(decision: Decision, now: float) -> str:
    """X-Accel-Expires: "0" (never cache), or "@<this second>" for a cacheable decision.

    nginx counts cache lifetimes in whole seconds and keeps an entry to the end of its last
    second, so a relative "1" would live up to two seconds. An absolute expiry at the end of
    the current second keeps every cached answer at most one second old."""
    return f"@{int(now)}" if decision.cacheable else "0"


def answer(decision: Decision, *, passes_statuses: bool, now: float) -> Answer:
    reason = decision.reason
    body = b""
    status = reason.status
    if not decision.allowed and passes_statuses:
        # The proxy shows this answer to the client as it is: a real 429 where it can.
        status = 429 if reason is Reason.RATE_LIMIT_EXCEEDED else reason.status
        body = json.dumps({"error": reason.value}).encode()
    client = decision.client if reason is Reason.AUTHENTICATED else None
    headers = [
        ("X-Auth-Reason", reason.value),
        # Always present (empty unless authenticated), so no proxy can pass on a stale or
        # spoofed value (Caddy 2.6 sends a placeholder for a missing one, proxy-facts §2.3).
        ("X-Auth-Client-ID", client.id if client else ""),
        ("X-Auth-Client-Name", client.name if client else ""),
        ("X-Auth-Route-ID", str(decision.route.id) if decision.allowed and decision.route else ""),
        ("X-Accel-Expires", cache_for(decision, now)),
    ]
    usage = decision.usage
    if usage is not None:
        headers += [
            ("RateLimit-Limit", str(usage.limit)),
            ("RateLimit-Remaining", str(max(0, usage.remaining))),
            ("RateLimit-Reset", str(usage.reset_seconds)),
        ]
        if usage.exceeded:
            headers.append(("Retry-After", str(usage.reset_seconds)))
    if reason is Reason.INVALID_CREDENTIALS:
        challenge = _CHALLENGES.get(decision.auth or "any", _CHALLENGES["any"])
        headers.append(("WWW-Authenticate", challenge))
    if body:
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(body))))
    return Answer(status, headers, body)


def fault() -> Answer:
    """Gatekeeper failed: deny, and say so; never cacheable."""
    return Answer(
        500,
        [("X-Auth-Reason", INTERNAL_ERROR), ("X-Accel-Expires", "0"), ("Content-Length", "0")],
    )
