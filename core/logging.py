"""JSON lines for log collectors: one object per record, configured once in settings.LOGGING.

Each line has `time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` when the
request being served carried one (the proxy's `X-Request-ID`, bound by authz/asgi.py and
RequestIdMiddleware), and the record's `extra=` fields. Secrets are kept out of log calls where
they are made; this formatter only refuses to print arbitrary objects.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}
_PLAIN = (str, int, float, bool, type(None), list, tuple, dict)
# Longer ids are not ids; this keeps a client-chosen header from bloating every line.
MAX_REQUEST_ID = 128

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def bind_request_id(value: str | None) -> Token[str | None]:
    """Tag the lines logged while serving this request; undo with `unbind_request_id`."""
    if value is not None and not (len(value) <= MAX_REQUEST_ID and value.isprintable()):
        value = None
    return _request_id.set(value or None)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


class RequestIdMiddleware:
    """Binds the request id for the admin server's requests (the decision server does the
    same in authz/asgi.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = bind_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        try:
            return self.get_response(request)
        finally:
            unbind_request_id(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _request_id.get()
        if request_id:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = _plain(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=_type_name)


def _plain(value: object) -> object:
    """Plain values and containers as they are; any other object by its type name only.

    An object's str() can carry anything: Django attaches the request to its own log records,
    and a request's repr holds the query string, where an `api_key` may be.
    """
    if isinstance(value, _PLAIN):
        return value
    return _type_name(value)


def _type_name(value: object) -> str:
    return f"<{type(value).__name__}>"
