"""A test client for the decision server (authz/asgi.py), shaped like Django's test client.

It calls the real ASGI application in-process: the request is an ASGI scope built from
WSGI-style keyword arguments (`HTTP_X_ORIGINAL_URI=...`, `REMOTE_ADDR=...`), so tests read as
they did against Django, while everything from reading the request to the answer's headers is
the decision server's own code. The path is sent as the raw request target, exactly as given.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from authz.asgi import application

DEFAULT_PEER = "127.0.0.1"


class DeciderResponse:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = status
        self.header_list = headers
        self.headers = {name.lower(): value for name, value in headers}
        self.content = body

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def has_header(self, name: str) -> bool:
        return name.lower() in self.headers

    def json(self) -> Any:
        return json.loads(self.content)


class DeciderClient:
    def __init__(self, before: Callable[[], None] | None = None) -> None:
        """`before` runs ahead of each request (the tests' fixture refreshes the snapshot)."""
        self._before = before

    def get(self, path: str, **meta: str) -> DeciderResponse:
        return self.generic("GET", path, **meta)

    def post(
        self, path: str, data: bytes | str = b"", content_type: str = "", **meta: str
    ) -> DeciderResponse:
        return self.generic("POST", path, data, content_type=content_type, **meta)

    def generic(
        self,
        method: str,
        path: str,
        data: bytes | str = b"",
        content_type: str = "",
        **meta: str,
    ) -> DeciderResponse:
        if self._before is not None:
            self._before()
        body = data.encode() if isinstance(data, str) else data
        raw_path, _, query = path.partition("?")
        headers = _headers(meta)
        if content_type:
            headers.append((b"content-type", content_type.encode("latin-1")))
        if body and not any(name == b"content-length" for name, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "headers": headers,
            "client": (meta.get("REMOTE_ADDR", DEFAULT_PEER), 40000),
            "server": ("127.0.0.1", 7844),
        }
        return asyncio.run(_call(scope, body))


def _headers(meta: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    headers = []
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
    return headers


async def _call(scope: dict[str, Any], body: bytes) -> DeciderResponse:
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope, receive, send)
    start, *rest = sent
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return DeciderResponse(start["status"], headers, b"".join(m.get("body", b"") for m in rest))
