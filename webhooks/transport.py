"""One HTTP POST of a webhook, with the safety rules of README "Webhooks":

- the host is resolved now and every address checked (`destinations.resolve`); the socket
  connects to the checked address, while the Host header and TLS (SNI, certificate check)
  use the name, so DNS cannot swap the address between check and connect;
- redirects are never followed (http.client follows none; a 3xx is a failed attempt);
- no proxy from the environment (http.client reads none: a proxy would connect elsewhere);
- the response body is read up to RESPONSE_CAP bytes;
- the whole attempt, from lookup to the last byte read, ends after `timeout` seconds: a
  receiver that trickles its answer is cut off by a watchdog that shuts the socket down.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass

from webhooks import destinations

RESPONSE_CAP = 1024
USER_AGENT = "Gatekeeper-Webhooks/1"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes  # at most RESPONSE_CAP bytes
    seconds: float
    location: str | None = None  # a redirect's target (never followed)


class Timeout(Exception):
    """The attempt took longer than the timeout."""


class _HTTP(http.client.HTTPConnection):
    """Connects to an address checked beforehand instead of resolving the host again."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), timeout=self.timeout)


class _HTTPS(http.client.HTTPSConnection):
    """The same for TLS: the socket goes to the checked address, the certificate must be
    the host's (the name is the TLS server name)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), timeout=self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float) -> Response:
    """POST `body` to `url`. Raises RefusedDestination (the address is not allowed), Timeout,
    or OSError / http.client.HTTPException (DNS, connection, TLS, a broken answer)."""
    started = time.monotonic()
    target = destinations.parse_url(url)
    address = destinations.resolve(target)
    remaining = timeout - (time.monotonic() - started)
    if remaining <= 0:
        raise Timeout(f"no answer within {timeout:g}s (the lookup took it all)")
    kind = _HTTPS if target.scheme == "https" else _HTTP
    conn = kind(target.host, target.port, address=str(address), timeout=remaining)
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(remaining, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Content-Length": str(len(body)),
            },
        )
        response = conn.getresponse()
        excerpt = response.read(RESPONSE_CAP)
        location = response.getheader("Location")
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise Timeout(f"no answer within {timeout:g}s") from None
        raise
    finally:
        watchdog.cancel()
        conn.close()
    return Response(status, excerpt, time.monotonic() - started, location)
