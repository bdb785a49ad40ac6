"""The server comparison's app: the least a decider can do over HTTP (read the headers nginx
sends, answer 200), one WSGI callable served by gunicorn (gthread, sync) and by granian behind
the same nginx, so the rows differ only in the server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    asked = environ.get("HTTP_X_ORIGINAL_METHOD") and environ.get("HTTP_X_ORIGINAL_URI")
    reason = "no_auth_required" if asked else "malformed_request"
    status = "200 OK" if asked else "403 Forbidden"
    start_response(status, [("X-Auth-Reason", reason), ("Content-Length", "0")])
    return [b""]
