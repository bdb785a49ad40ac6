"""A seed-style decider: the baseline of the "at least 10x the seed" target.

The first Gatekeeper asked the database on every request. This plain WSGI callable does the
same for an API-key request: the credential and its client, the routes configured for the
method, and the permission, three queries per request on a connection per thread; then the
answer nginx expects. It knows API keys and public routes only (all the benchmark asks it)
and is never deployed.

Run: `gunicorn --config deploy/gunicorn.conf.py bench.seed_decider:application` with
DATABASE_URL (PostgreSQL) set (bench/servers.py does).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

CREDENTIAL = (
    "SELECT cl.id, cl.status FROM clients_credential c "
    "JOIN clients_client cl ON cl.id = c.client_id "
    "WHERE c.digest = %s AND c.kind = 'api_key' AND c.revoked_at IS NULL"
)
ROUTES = (
    "SELECT r.id, r.domain, r.pattern, m.auth FROM routes_route r "
    "JOIN routes_routemethod m ON m.route_id = r.id WHERE m.method = %s ORDER BY r.id"
)
PERMISSION = "SELECT methods FROM permissions_permission WHERE client_id = %s AND route_id = %s"
STATUS_LINES = {200: "200 OK", 401: "401 Unauthorized", 403: "403 Forbidden"}

_local = threading.local()


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return conn


def matches(pattern: str, path: str) -> bool:
    """`/a/{id}/*`-style patterns: `{name}` is one segment, a final `*` any rest."""
    wanted = pattern.strip("/").split("/")
    given = path.strip("/").split("/")
    if wanted[-1] == "*":
        wanted = wanted[:-1]
        if len(given) <= len(wanted):
            return False
        given = given[: len(wanted)]
    elif len(given) != len(wanted):
        return False
    return all(
        w == g or (w.startswith("{") and w.endswith("}"))
        for w, g in zip(wanted, given, strict=True)
    )


def decide(method: str, host: str, path: str, key: str | None) -> tuple[int, str]:
    with _connection().cursor() as cursor:
        cursor.execute(ROUTES, [method])
        route = next(
            (
                (route_id, auth)
                for route_id, domain, pattern, auth in cursor.fetchall()
                if domain in ("*", host) and matches(pattern, path)
            ),
            None,
        )
        if route is None:
            return 403, "no_route_match"
        route_id, auth = route
        if auth == "public":
            return 200, "no_auth_required"
        if not key:
            return 401, "invalid_credentials"
        digest = "sha256$" + hashlib.sha256(key.encode()).hexdigest()
        cursor.execute(CREDENTIAL, [digest])
        client = cursor.fetchone()
        if client is None:
            return 401, "invalid_credentials"
        if client[1] != "active":
            return 403, "client_suspended"
        cursor.execute(PERMISSION, [client[0], route_id])
        row = cursor.fetchone()
        if row is None or method not in row[0].split(","):
            return 403, "no_permission"
        return 200, "authenticated"


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, key = authorization.partition(" ")
    status, reason = decide(
        environ.get("HTTP_X_ORIGINAL_METHOD", ""),
        environ.get("HTTP_X_ORIGINAL_HOST", "").split(":")[0],
        environ.get("HTTP_X_ORIGINAL_URI", "").split("?")[0],
        key if scheme.lower() == "bearer" else None,
    )
    start_response(STATUS_LINES[status], [("X-Auth-Reason", reason), ("Content-Length", "0")])
    return [b""]
