"""HMAC request signatures, wire-compatible with the `byteforge-hmac` clients (design §6).

signature = hex(HMAC-SHA256(secret, METHOD \\n target \\n timestamp \\n nonce \\n body)), where
`target` is the request target exactly as sent (so the query string is signed) and `body` the
raw body. Every live secret of the client is tried (rotation), always all of them, and a
client with no secret costs the same work, so timing tells nothing about which exists.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from authz.credentials import HmacFields

# Stands in for the secrets of an unknown client so that a miss costs what a wrong guess does.
_NO_SECRET = (b"\x00" * 32,)


def canonical(method: str, target: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    head = f"{method}\n{target}\n{timestamp}\n{nonce}\n"
    return head.encode("utf-8", "surrogateescape") + body


def sign(secret: bytes, method: str, target: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = canonical(method, target, timestamp, nonce, body)
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def find_signer(
    secrets: Sequence[bytes], fields: HmacFields, method: str, target: str, body: bytes
) -> int | None:
    """The index of the secret that produced `fields.signature`, or None.

    Every secret is tried, in constant time each, whatever matched: the work does not depend
    on which secret (if any) is right.
    """
    message = canonical(method, target, fields.timestamp, fields.nonce, body)
    presented = fields.signature.encode("ascii")
    found = None
    for position, secret in enumerate(secrets or _NO_SECRET):
        expected = hmac.new(secret, message, hashlib.sha256).hexdigest().encode("ascii")
        if hmac.compare_digest(expected, presented) and secrets:
            found = position
    return found


def timestamp_fresh(timestamp: str, now: float, max_skew: int) -> bool:
    return abs(int(timestamp) - now) <= max_skew
