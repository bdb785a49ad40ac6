"""The decision endpoints, one per proxy shape (authz/shapes.py), and `/health`.

For nginx and ingress-nginx only 200, 401 and 403, with empty bodies (nginx turns any other
status into a 500); for proxies that pass the decider's answer to the client, denials carry a
small JSON body. An internal fault answers 500 and denies (fail closed) everywhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from authz import metrics, shapes
from authz.engine import Decision, RequestFacts, decide, malformed
from authz.normalize import Malformed
from authz.reasons import Detail, Reason
from authz.runtime import Runtime, get_runtime
from core import config_version

log = logging.getLogger("gatekeeper.decisions")

_CHALLENGES = {
    "api_key": 'Bearer realm="gatekeeper"',
    "hmac": 'HMAC realm="gatekeeper"',
    "any": 'Bearer realm="gatekeeper", HMAC realm="gatekeeper"',
}


def authz(request: HttpRequest) -> HttpResponse:
    """nginx auth_request."""
    return _answer(request, shapes.NGINX)


def forward(request: HttpRequest) -> HttpResponse:
    """Caddy forward_auth, Traefik ForwardAuth."""
    return _answer(request, shapes.FORWARD)


def ingress(request: HttpRequest) -> HttpResponse:
    """ingress-nginx auth-url."""
    return _answer(request, shapes.INGRESS)


def envoy(request: HttpRequest, path: str = "") -> HttpResponse:
    """Envoy ext_authz (HTTP service) with `path_prefix: /authz/envoy`."""
    return _answer(request, shapes.ENVOY)


def _answer(request: HttpRequest, shape: shapes.Shape) -> HttpResponse:
    runtime = get_runtime()
    started = time.perf_counter()
    try:
        decision, facts = _decide(request, shape, runtime)
    except Exception:
        metrics.count_decision_fault(shape=shape.name)
        log.exception("decision failed; denying")
        response = HttpResponse(status=500)
        response["X-Auth-Reason"] = "internal_error"
        response["Content-Length"] = "0"
        return response
    metrics.observe_decision(decision, shape=shape.name, seconds=time.perf_counter() - started)
    runtime.decisions.record(
        decision,
        facts,
        shape=shape.name,
        peer=request.META.get("REMOTE_ADDR", ""),
        source_ip=_client_address(request),
        now=time.time(),
    )
    return _respond(decision, shape)


def _decide(
    request: HttpRequest, shape: shapes.Shape, runtime: Runtime
) -> tuple[Decision, RequestFacts | None]:
    peer = request.META.get("REMOTE_ADDR", "")
    if not runtime.is_trusted(peer):
        # Nobody who reaches Gatekeeper directly may use it as an oracle for keys.
        log.warning("decision request from untrusted peer %s refused", peer)
        return malformed(Detail.UNTRUSTED_PEER), None
    try:
        facts = shape.read(request)
    except Malformed as exc:
        return malformed(exc.detail), None
    now = time.time()
    decision = decide(
        facts,
        runtime.holder.get(),
        now,
        nonces=runtime.nonces,
        limiter=runtime.limiter,
        config=runtime.config,
    )
    if decision.credential_id is not None:
        runtime.usage.note(decision.credential_id, now)
    return decision, facts


def _client_address(request: HttpRequest) -> str | None:
    """The caller's address as the proxy reports it (for the audit trail only; never trusted
    for a decision): X-Real-IP, else the entry the nearest proxy appended to X-Forwarded-For."""
    real = request.META.get("HTTP_X_REAL_IP", "").strip()
    if real:
        return real
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.rsplit(",", 1)[-1].strip() or None


def _respond(decision: Decision, shape: shapes.Shape) -> HttpResponse:
    reason = decision.reason
    if decision.allowed or not shape.passes_statuses:
        # Empty bodies: nginx reads none, and a body costs the keepalive connection.
        response = HttpResponse(status=reason.status)
        response["Content-Length"] = "0"
    else:
        # The proxy shows this answer to the client as it is: a real 429 where it can.
        status = 429 if reason is Reason.RATE_LIMIT_EXCEEDED else reason.status
        response = JsonResponse({"error": reason.value}, status=status)
    response["X-Auth-Reason"] = reason.value
    client = decision.client if reason is Reason.AUTHENTICATED else None
    # Always present (empty unless authenticated), so no proxy can pass on a stale or spoofed
    # value (Caddy 2.6 sends a placeholder for a missing one, proxy-facts §2.3).
    response["X-Auth-Client-ID"] = client.id if client else ""
    response["X-Auth-Client-Name"] = client.name if client else ""
    response["X-Auth-Route-ID"] = (
        str(decision.route.id) if decision.allowed and decision.route else ""
    )
    usage = decision.usage
    if usage is not None:
        response["RateLimit-Limit"] = str(usage.limit)
        response["RateLimit-Remaining"] = str(max(0, usage.remaining))
        response["RateLimit-Reset"] = str(usage.reset_seconds)
        if usage.exceeded:
            response["Retry-After"] = str(usage.reset_seconds)
    if reason is Reason.INVALID_CREDENTIALS:
        response["WWW-Authenticate"] = _CHALLENGES.get(decision.auth or "any", _CHALLENGES["any"])
    return response


def health(request: HttpRequest) -> JsonResponse:
    """ok (200), degraded (200: deciding from an old snapshot) or unavailable (503)."""
    holder = get_runtime().holder
    try:
        holder.get()
    except Exception as exc:
        log.warning("health: no snapshot: %s", type(exc).__name__)
    database = _database_state()
    version = None
    cache_state = _probe(lambda: cache.get(config_version.KEY))
    if cache_state == "ok":
        version = config_version.current()
    snapshot = holder.snapshot
    if snapshot is None:
        status, code = "unavailable", 503
    elif database != "ok" or holder.last_error:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    age = holder.age()
    return JsonResponse(
        {
            "status": status,
            "database": database,
            "cache": cache_state,
            "config_version": version,
            "snapshot": {
                "version": snapshot.version if snapshot else None,
                "age_seconds": round(age, 3) if age is not None else None,
                "reloads": holder.reloads,
                "routes": len(snapshot.routes) if snapshot else 0,
                "clients": len(snapshot.clients) if snapshot else 0,
            },
        },
        status=code,
    )


_database_probe = threading.Lock()
_database_last = "unknown"


def _database_state() -> str:
    """One database probe at a time per process: while the database hangs, load-balancer
    probes must not pile up on it and take every thread that /authz needs."""
    global _database_last
    if not _database_probe.acquire(blocking=False):
        return _database_last
    try:
        _database_last = _probe(lambda: connection.cursor().execute("SELECT 1"))
    finally:
        _database_probe.release()
    return _database_last


def _probe(call: Callable[[], object]) -> str:
    try:
        call()
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
