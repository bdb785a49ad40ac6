"""The decision server: an ASGI application that answers the proxies, without Django's handler.

It serves the decision endpoints of every proxy shape (authz/shapes.py), `/health` and
`/metrics`, and nothing else (the admin and the API run in their own process pool, so a flood
there cannot starve decisions). Django is set up for its settings and ORM, which the
background threads use (snapshot rebuilds, the audit writer); a request touches neither.

ASGI rather than WSGI because ASGI servers hand over the raw request target (`raw_path`):
Envoy's check request carries the original path, and only the raw form can be matched
strictly and verified against an HMAC signature. Each request runs to its end on the event
loop: a decision is tens of microseconds of CPU, and its only I/O (Redis, for nonces and rate
limits) is bounded by 0.5 s timeouts and a failure policy.

Spine of a decision (`_answer`): trust -> read -> decide -> observe -> record -> respond; any
fault inside becomes a 500 and a deny.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.settings")
django.setup()

from django.conf import settings  # noqa: E402 - after setup
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: E402

from authz import health, metrics, metrics_view, observers, shapes  # noqa: E402
from authz.answer import Answer, answer, fault  # noqa: E402
from authz.engine import Decision, RequestFacts, decide, malformed  # noqa: E402
from authz.incoming import Incoming, collect_headers  # noqa: E402
from authz.normalize import Malformed  # noqa: E402
from authz.reasons import Detail  # noqa: E402
from authz.runtime import Runtime, get_runtime  # noqa: E402
from core.logging import bind_request_id, unbind_request_id  # noqa: E402

log = logging.getLogger("gatekeeper.decisions")
server_log = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_NOT_FOUND = Answer(404, [("Content-Length", "0")])


async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    incoming = await _read(scope, receive)
    if incoming.raw_path == "/health":
        await health.probe(get_runtime())
    token = bind_request_id(incoming.header("x-request-id"))
    try:
        reply = route(incoming)
    finally:
        unbind_request_id(token)
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers],
        }
    )
    await send({"type": "http.response.body", "body": reply.body})


def route(incoming: Incoming) -> Answer:
    """The answer to one request (synchronous: also what the tests' client calls)."""
    shape = shapes.for_path(incoming.raw_path)
    if shape is not None:
        return _answer(incoming, shape)
    if incoming.raw_path == "/health":
        report = health.report(get_runtime())
        return _json(report.status, report.body)
    if incoming.raw_path == "/metrics":
        if not metrics_view.permitted(incoming.peer, incoming.header("authorization") or ""):
            server_log.info("metrics refused for peer %s", incoming.peer)
            return Answer(403, [("Content-Length", "0")])
        body = metrics_view.render()
        return Answer(
            200,
            [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))],
            body,
        )
    return _NOT_FOUND


def _answer(incoming: Incoming, shape: shapes.Shape) -> Answer:
    runtime = get_runtime()
    started = time.perf_counter()
    try:
        decision, facts = _decide(incoming, shape, runtime)
    except Exception:
        metrics.count_decision_fault(shape=shape.name)
        log.exception("decision failed; denying")
        return fault()
    metrics.observe_decision(decision, shape=shape.name, seconds=time.perf_counter() - started)
    now = time.time()
    observers.notify(decision, now)
    runtime.decisions.record(
        decision,
        facts,
        shape=shape.name,
        peer=incoming.peer,
        source_ip=shape.client_address(incoming),
        now=now,
    )
    return answer(decision, passes_statuses=shape.passes_statuses, now=now)


def _decide(
    incoming: Incoming, shape: shapes.Shape, runtime: Runtime
) -> tuple[Decision, RequestFacts | None]:
    if not runtime.is_trusted(incoming.peer):
        # Nobody who reaches Gatekeeper directly may use it as an oracle for keys.
        log.warning("decision request from untrusted peer %s refused", incoming.peer)
        return malformed(Detail.UNTRUSTED_PEER), None
    try:
        facts = shape.read(incoming)
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
    if decision.credential_id is not None and decision.detail is None:
        runtime.usage.note(decision.credential_id, now)
    return decision, facts


def _json(status: int, payload: dict[str, Any]) -> Answer:
    body = json.dumps(payload).encode()
    return Answer(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        body,
    )


async def _read(scope: dict[str, Any], receive: Receive) -> Incoming:
    headers, repeated = collect_headers(scope.get("headers", ()))
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    client = scope.get("client")
    return Incoming(
        method=scope["method"],
        raw_path=raw_path.decode("latin-1"),
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        repeated=repeated,
        peer=client[0] if client else "",
        body=await _body(receive, settings.GATEKEEPER_MAX_BODY_BYTES),
    )


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` (then it is not read on: a
    body we will not read whole is a body we do not have)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                # Database work (the first snapshot) belongs in a thread, not on the loop.
                await asyncio.to_thread(get_runtime().start)
            except Exception as exc:
                server_log.exception("decision server cannot start")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            runtime = get_runtime()
            await asyncio.to_thread(runtime.stop)
            await asyncio.to_thread(runtime.save_state)
            await send({"type": "lifespan.shutdown.complete"})
            return
