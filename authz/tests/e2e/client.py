"""An HTTP client that puts the request target on the wire exactly as given (no library
normalises `..`, `//` or escapes on the way), over a new connection per request."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass

from authz.tests.tcp_proxy import HOST

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    elapsed: float  # seconds from connecting to the last byte

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        values = self.values(name)
        assert len(values) <= 1, f"{name} arrived {len(values)} times: {values}"
        return values[0] if values else None

    def json(self) -> dict:
        return json.loads(self.body)


def send_raw(port: int, data: bytes, *, method: str = "GET", timeout: float = 10.0) -> Reply:
    """Send `data` as is and read one response (the request should ask to close)."""
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
    return Reply(
        status=response.status,
        headers=tuple(response.getheaders()),
        body=body,
        elapsed=time.monotonic() - started,
    )


def request(
    port: int,
    method: str,
    target: str,
    *,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    chunked: bool = False,
    host: str = "api.example.com",
    timeout: float = 10.0,
) -> Reply:
    """One HTTP/1.1 request; the body goes with Content-Length, or chunked."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        framed = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + CHUNK]), body[i : i + CHUNK])
            for i in range(0, len(body), CHUNK)
        )
        payload = framed + b"0\r\n\r\n"
    else:
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        payload = body
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return send_raw(port, head + payload, method=method, timeout=timeout)
