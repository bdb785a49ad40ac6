"""`/authz` (nginx auth_request, ingress-nginx) and `/health`.

`/authz` answers only 200, 401 and 403 with an empty body (nginx turns any other status into a
500, and a body costs the keepalive connection); an internal fault answers 500 and denies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from authz.engine import Decision, RequestFacts, decide, malformed
from authz.reasons import Detail, Reason
from authz.runtime import Runtime, get_runtime
from core import config_version
from core.redaction import redact_query

log = logging.getLogger("gatekeeper.decisions")

_CHALLENGES = {
    "api_key": 'Bearer realm="gatekeeper"',
    "hmac": 'HMAC realm="gatekeeper"',
    "any": 'Bearer realm="gatekeeper", HMAC realm="gatekeeper"',
}
_REQUIRED = ("HTTP_X_ORIGINAL_METHOD", "HTTP_X_ORIGINAL_HOST", "HTTP_X_ORIGINAL_URI")


def authz(request: HttpRequest) -> HttpResponse:
    runtime = get_runtime()
    try:
        decision = _decide(request, runtime)
    except Exception:
        log.exception("decision failed; denying")
        response = HttpResponse(status=500)
        response["X-Auth-Reason"] = "internal_error"
        response["Content-Length"] = "0"
        return response
    if not decision.allowed:
        _log_denial(decision, request.META, runtime)
    return _respond(decision, request.META.get("HTTP_X_ORIGINAL_METHOD", ""))


def _log_denial(decision: Decision, meta: dict, runtime: Runtime) -> None:
    target = redact_query(meta.get("HTTP_X_ORIGINAL_URI", ""), runtime.config.query_params)
    log.info(
        "deny peer=%s method=%s host=%s target=%s reason=%s detail=%s",
        meta.get("REMOTE_ADDR", ""),
        meta.get("HTTP_X_ORIGINAL_METHOD", ""),
        meta.get("HTTP_X_ORIGINAL_HOST", ""),
        target,
        decision.reason,
        decision.detail or "",
    )


def _decide(request: HttpRequest, runtime: Runtime) -> Decision:
    meta = request.META
    peer = meta.get("REMOTE_ADDR", "")
    if not runtime.is_trusted(peer):
        # Nobody who reaches Gatekeeper directly may use it as an oracle for keys.
        log.warning("decision request from untrusted peer %s refused", peer)
        return malformed(Detail.UNTRUSTED_PEER)
    if any(not meta.get(name) for name in _REQUIRED):
        return malformed(Detail.MISSING_HEADER)
    target = meta["HTTP_X_ORIGINAL_URI"]
    # WSGI servers join a repeated header with ','; a target is one origin-form value, so a
    # ',' followed by '/' is read as two X-Original-URI headers (an injection through `$uri`).
    if ",/" in target:
        return malformed(Detail.DUPLICATE_HEADER)
    facts = RequestFacts(
        method=meta["HTTP_X_ORIGINAL_METHOD"],
        host=meta["HTTP_X_ORIGINAL_HOST"],
        target=target,
        authorization=meta.get("HTTP_AUTHORIZATION"),
        api_key_header=meta.get("HTTP_X_API_KEY"),
        body=_body(request),
    )
    now = time.time()
    decision = decide(
        facts, runtime.holder.get(), now, nonces=runtime.nonces, config=runtime.config
    )
    if decision.credential_id is not None:
        runtime.usage.note(decision.credential_id, now)
    return decision


def _body(request: HttpRequest) -> bytes | None:
    """The body the proxy passed; None when the original request had one we did not get."""
    if request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        return request.body
    original = request.META.get("HTTP_X_ORIGINAL_CONTENT_LENGTH", "")
    if original not in ("", "0") or request.META.get("HTTP_X_ORIGINAL_TRANSFER_ENCODING"):
        return None
    return b""


def _respond(decision: Decision, method: str) -> HttpResponse:
    reason = decision.reason
    response = HttpResponse(status=reason.status)
    response["Content-Length"] = "0"
    response["X-Auth-Reason"] = reason.value
    client = decision.client if reason is Reason.AUTHENTICATED else None
    # Always present (empty when not authenticated), so no proxy can pass on a stale value.
    response["X-Auth-Client-ID"] = client.id if client else ""
    response["X-Auth-Client-Name"] = client.name if client else ""
    if decision.allowed and decision.route is not None:
        response["X-Auth-Route-ID"] = str(decision.route.id)
    if reason is Reason.INVALID_CREDENTIALS:
        auth = decision.route.methods.get(method, "any") if decision.route else "any"
        response["WWW-Authenticate"] = _CHALLENGES.get(auth, _CHALLENGES["any"])
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
