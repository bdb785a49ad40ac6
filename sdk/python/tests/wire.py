"""A loopback HTTP/1.1 server that records each request exactly as it arrived on the wire:
the target from the request line, the headers, the body bytes (Content-Length or chunked)."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gatekeeper_client import signature

_AUTHORIZATION = re.compile(
    r'HMAC client_id="([^"]+)",timestamp="([0-9]+)",nonce="([^"]+)",signature="([0-9a-f]{64})"'
)


@dataclass(frozen=True)
class Arrived:
    method: str
    target: str  # from the request line, as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def signed_fields(self) -> tuple[str, str, str, str]:
        """client_id, timestamp, nonce, signature from an HMAC Authorization header."""
        match = _AUTHORIZATION.fullmatch(self.headers.get("authorization", ""))
        assert match, f"not an HMAC header: {self.headers.get('authorization')!r}"
        return match.group(1), match.group(2), match.group(3), match.group(4)

    def verifies(self, secret: str) -> bool:
        """Gatekeeper's check: the signature covers what arrived."""
        _, timestamp, nonce, presented = self.signed_fields()
        expected = signature(secret, self.method, self.target, int(timestamp), nonce, self.body)
        return expected == presented


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while line := self.rfile.readline(65537):
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (raw := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = self._body(headers)
            self.server.arrived.append(Arrived(method, target, headers, body))
            payload = b'{"ok":true}'
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
            )
            self.wfile.flush()

    def _body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(headers.get("content-length", "0")))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.arrived: list[Arrived] = []


class Wire:
    """What a test sends to `base` and what arrived there."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.base = f"http://127.0.0.1:{server.server_address[1]}"

    def take(self) -> list[Arrived]:
        arrived, self._server.arrived[:] = list(self._server.arrived), []
        return arrived

    def one(self) -> Arrived:
        [arrived] = self.take()
        return arrived


@contextmanager
def serving() -> Iterator[Wire]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Wire(server)
    finally:
        server.shutdown()
        server.server_close()
