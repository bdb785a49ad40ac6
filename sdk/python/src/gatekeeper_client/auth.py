"""Auth classes for `requests` and `httpx`: each request is signed as it will go on the wire.

One class serves both libraries (`requests.auth.AuthBase` through `__call__`, `httpx.Auth`
through `auth_flow`). Neither library is a dependency: the base classes are used when the
library is installed, and a stand-in takes their place when it is not.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from gatekeeper_client.signing import as_bytes, sign

if TYPE_CHECKING:
    import httpx
    import requests

try:
    from requests.auth import AuthBase as _RequestsAuth
except ImportError:  # requests is optional

    class _RequestsAuth:  # type: ignore[no-redef]
        pass


try:
    from httpx import Auth as _HttpxAuth
except ImportError:  # httpx is optional

    class _HttpxAuth:  # type: ignore[no-redef]
        pass


_WHITESPACE = re.compile(r"\s")


class GatekeeperKeyAuth(_RequestsAuth, _HttpxAuth):
    """Send an API key: `Authorization: Bearer <key>`, or the key alone in `header`
    (`header="X-API-Key"`)."""

    def __init__(self, key: str, *, header: str = "Authorization") -> None:
        if not key or _WHITESPACE.search(key):
            raise ValueError("an API key is one non-empty token without spaces")
        self._key = key
        self._header = header
        self._value = f"Bearer {key}" if header.lower() == "authorization" else key

    def __repr__(self) -> str:
        # Only the recognisable prefix (gk_<prefix>_...), never the secret part.
        shown = self._key.rpartition("_")[0] + "_..." if self._key.startswith("gk_") else "..."
        return f"GatekeeperKeyAuth({shown}, header={self._header!r})"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self._header] = self._value
        return r

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._value
        yield request


class GatekeeperHmacAuth(_RequestsAuth, _HttpxAuth):
    """Sign every request with the client's HMAC secret, over the target and body bytes as
    sent, with the current time and a fresh nonce. Each call of `requests`/`httpx` signs
    anew, so retry by sending the request again, never by replaying its headers."""

    # httpx reads a streamed body into memory before `auth_flow` runs.
    requires_request_body = True

    def __init__(self, client_id: str, secret: str | bytes) -> None:
        self.client_id = client_id
        self._secret = secret

    def __repr__(self) -> str:
        return f"GatekeeperHmacAuth(client_id={self.client_id!r})"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = _materialise(r)
        # requests has already encoded the URL as urllib3 will send it (escapes upper-cased,
        # raw UTF-8 and spaces escaped): path_url is the target on the wire.
        r.headers["Authorization"] = self._sign(r.method or "GET", r.path_url, body)
        return r

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # raw_path is the target httpx writes on the wire, escapes and all.
        target = request.url.raw_path.decode("ascii")
        request.headers["Authorization"] = self._sign(request.method, target, request.content)
        yield request

    def _sign(self, method: str, target: str, body: bytes) -> str:
        return sign(method, target, body, client_id=self.client_id, secret=self._secret)


def _materialise(r: requests.PreparedRequest) -> bytes:
    """The body requests will send, as bytes; a file or generator body is read once and
    replaced by its bytes (with a Content-Length), so the signed bytes are the sent ones."""
    body: Any = r.body
    if body is None or isinstance(body, bytes):
        return body or b""
    if isinstance(body, str):
        data = as_bytes(body)
    elif hasattr(body, "read"):
        data = as_bytes(body.read())
    else:
        data = b"".join(as_bytes(chunk) for chunk in body)
    r.body = data
    r.headers.pop("Transfer-Encoding", None)
    r.headers["Content-Length"] = str(len(data))
    return data
