"""The HMAC signature Gatekeeper verifies, and the Authorization header that carries it.

signature = hex(HMAC-SHA256(secret, METHOD \\n target \\n timestamp \\n nonce \\n body)), where
`target` is the request target exactly as it goes on the wire (path plus `?query`, percent-
encoded as sent, never re-encoded) and `body` the body bytes. Wire-compatible with
`byteforge-hmac`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import Union

# Gatekeeper accepts a timestamp this many seconds either side of its own clock.
MAX_SKEW_SECONDS = 300
NONCE_BYTES = 16

Body = Union[bytes, bytearray, memoryview, str, None]

# Origin-form, printable ASCII: Gatekeeper refuses a target with a space, '#', a control or a
# raw non-ASCII byte, so a signature over one could never be accepted.
_TARGET = re.compile(r"/[!-\"$-~]*")
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Header values sit between quotes in a comma-separated list: neither may appear in them.
_NONCE = re.compile(r"[!#-+\--~]{1,128}")
_CLIENT_ID = re.compile(r"[!#-+\--~]+")


def string_to_sign(method: str, target: str, timestamp: int, nonce: str, body: Body) -> bytes:
    """The exact bytes the signature covers."""
    head = f"{method.upper()}\n{target}\n{timestamp}\n{nonce}\n"
    return head.encode("ascii") + as_bytes(body)


def signature(
    secret: str | bytes, method: str, target: str, timestamp: int, nonce: str, body: Body
) -> str:
    """The hex HMAC-SHA256 of `string_to_sign` under `secret` (a str is used as UTF-8)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    message = string_to_sign(method, target, timestamp, nonce, body)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(
    method: str,
    target: str,
    body: Body = b"",
    *,
    client_id: str,
    secret: str | bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    """The `Authorization` header value for one request.

    `target` is the path and query exactly as sent (`/v1/orders?id=7`). The timestamp is the
    current time and the nonce a fresh random one unless given: give them only to reproduce a
    known signature, never to send the same nonce twice (Gatekeeper refuses the second).
    """
    check_target(target)
    if not _METHOD.fullmatch(method):
        raise ValueError("the method is not an HTTP method token")
    if not _CLIENT_ID.fullmatch(client_id):
        raise ValueError("the client id must be printable ASCII without spaces, quotes or commas")
    when = int(time.time()) if timestamp is None else timestamp
    if when < 0:
        raise ValueError("the timestamp must be Unix seconds")
    once = new_nonce() if nonce is None else nonce
    if not _NONCE.fullmatch(once):
        raise ValueError(
            "a nonce is 1-128 printable ASCII characters without spaces, quotes or commas"
        )
    hexdigest = signature(secret, method, target, when, once, body)
    return f'HMAC client_id="{client_id}",timestamp="{when}",nonce="{once}",signature="{hexdigest}"'


def new_nonce() -> str:
    """128 random bits in hex: never the same twice."""
    return secrets.token_hex(NONCE_BYTES)


def check_target(target: str) -> None:
    """Raise ValueError unless `target` can be sent and signed as it is."""
    if not _TARGET.fullmatch(target):
        # The target itself is not repeated: its query may hold a credential.
        raise ValueError(
            "the target must be the path and query exactly as sent, e.g. /v1/orders?id=7: "
            "starting with '/', percent-encoded, with no space, '#' or non-ASCII character"
        )


def as_bytes(body: Body) -> bytes:
    """The bytes of a body: a str is sent as UTF-8, None is no body."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)
