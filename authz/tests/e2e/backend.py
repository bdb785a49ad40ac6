"""A backend that records every request a proxy forwards to it, exactly as it arrived.

It answers every method with a small JSON body and 200, or the status the request asks for
in `X-Backend-Status` (to see what a proxy does with the backend's own errors). Python's
http.server collapses a leading `//` in `self.path` (proxy-facts, test rig caveat), so the
raw request line is kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from authz.tests.tcp_proxy import HOST

STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Received:
    request_line: str
    method: str
    target: str  # raw, from the request line
    headers: tuple[tuple[str, str], ...]  # in order, duplicates kept
    body: bytes

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        """The header's value; None when absent. Two copies fail the test: a proxy that
        forwards both the client's and Gatekeeper's value lets the backend pick either."""
        values = self.values(name)
        assert len(values) <= 1, f"{name} arrived {len(values)} times: {values}"
        return values[0] if values else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for nginx's
    # delayed ACK (40 ms a request).
    disable_nagle_algorithm = True
    server: _Server

    def handle_one_request(self) -> None:
        # Every method, any spelling: no do_GET/do_POST dispatch.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        self.server.backend.record(
            Received(
                request_line=self.raw_requestline.decode("latin-1").rstrip("\r\n"),
                method=self.command,
                target=self.raw_requestline.decode("latin-1").split(" ")[1],
                headers=tuple(self.headers.items()),
                body=self._body(),
            )
        )
        payload = b'{"backend":"ok"}\n'
        self.send_response(int(self.headers.get("X-Backend-Status", "200")))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            # Trailer section, up to the empty line.
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the recorded requests are the log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, backend: RecordingBackend) -> None:
        super().__init__((HOST, 0), _Handler)
        self.backend = backend


class RecordingBackend:
    """Serves on a free loopback port from a thread; `received` lists what arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._server = _Server(self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def __enter__(self) -> RecordingBackend:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(STOP_TIMEOUT)
