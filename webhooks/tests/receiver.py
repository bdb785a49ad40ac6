"""A real webhook receiver on 127.0.0.1 for the tests: an HTTP server on a free port that
keeps every request it gets and answers as the test scripts it (a status per request, a
redirect, a hang). `verify(secret)` checks every request kept with the `standardwebhooks`
package and with the Python SDK's `verify_webhook`, the way a receiving team would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from authz.tests.tcp_proxy import HOST
from core.tests.secret_scan import scan_text
from gatekeeper_client import verify_webhook


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def type(self) -> str:
        return self.json()["type"]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    hang: float = 0.0  # seconds to wait before answering


Script = Callable[[Received, int], Reply]  # (request, its number from 1) -> the reply


def always(status: int = 200, body: bytes = b"ok") -> Script:
    return lambda request, n: Reply(status, body)


def fail_first(times: int, status: int = 503) -> Script:
    return lambda request, n: Reply(status, b"not yet") if n <= times else Reply(200)


class Receiver:
    def __init__(self, script: Script | None = None) -> None:
        self.script = script or always()
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                reply = receiver._record(request)
                if reply.hang:
                    time.sleep(reply.hang)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender gave up first (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def _record(self, request: Received) -> Reply:
        # Whatever reaches a receiver must hold no secret Gatekeeper issued.
        scan_text(request.body.decode("utf-8", "replace"), "a webhook body")
        scan_text(json.dumps(request.headers), "webhook headers")
        with self._arrived:
            self.requests.append(request)
            number = len(self.requests)
            self._arrived.notify_all()
        return self.script(request, number)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """The requests, once at least `count` have arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return list(self.requests)

    def verify(self, secret: str) -> list[dict]:
        """Every request verified with both libraries; their payloads."""
        payloads = []
        for request in self.requests:
            payload = Webhook(secret).verify(request.body, request.headers)
            verify_webhook(request.body, request.headers, secret)
            payloads.append(payload)
        return payloads

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiving(script: Script | None = None) -> Iterator[Receiver]:
    receiver = Receiver(script).start()
    try:
        yield receiver
    finally:
        receiver.stop()
