"""Endpoint secrets and signatures, as the Standard Webhooks specification defines them.

- A secret is `whsec_` + base64 of SECRET_BYTES random bytes; the bytes are the HMAC key. It is
  generated here, shown once, and kept sealed with `clients.encryption` (MultiFernet, the keys
  in GATEKEEPER_SECRET_KEYS), because signing needs the secret itself.
- Each request carries `webhook-id` (the event's id, the same on every retry), a
  `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`: `v1,<base64 of
  HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, once per secret that signs. During a rotation
  both the new and the previous secret sign (space-separated), so a receiver verifies with
  either while it switches. Any Standard Webhooks library verifies these.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"
# 32 bytes: as strong as the SHA-256 it keys (the specification asks for 24 to 64).
SECRET_BYTES = 32
VERSION = "v1"


def generate() -> str:
    """A new secret in its shown form, `whsec_<base64>`."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret."""
    encoded = secret.removeprefix(PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` over `<id>.<timestamp>.<body>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key(secret), signed, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode('ascii')}"


def headers(
    secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed by every secret given (newest first)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets_
        ),
    }
