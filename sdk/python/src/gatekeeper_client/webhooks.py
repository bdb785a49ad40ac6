"""Verify webhooks signed as the Standard Webhooks specification says (standardwebhooks.com).

Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`: one or more
space-separated `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`, keyed with the secret
`whsec_<base64>`. Several signatures appear while a secret is being rotated; any one valid
`v1` signature is enough, and other versions are skipped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping

# The specification's tolerance, either side of this machine's clock.
WEBHOOK_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class WebhookVerificationError(Exception):
    """The webhook is not authentic (or not fresh): do not act on it."""


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | bytes,
    *,
    tolerance: int = WEBHOOK_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise WebhookVerificationError unless `body` (the raw bytes received) carries a valid,
    fresh signature. `headers` may be any mapping; names are matched case-insensitively.
    Deduplicate deliveries by `webhook-id`: a retried webhook keeps its id."""
    key = _key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookVerificationError("webhook-timestamp is not Unix seconds")
    age = (time.time() if now is None else now) - int(timestamp)
    if age > tolerance:
        raise WebhookVerificationError("the webhook is too old")
    if age < -tolerance:
        raise WebhookVerificationError("the webhook's timestamp is in the future")
    payload = body.encode("utf-8") if isinstance(body, str) else body
    message = f"{msg_id}.{timestamp}.".encode() + payload
    expected = hmac.new(key, message, hashlib.sha256).digest()
    for presented in signatures.split(" "):
        version, _, encoded = presented.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        if hmac.compare_digest(expected, candidate):
            return
    raise WebhookVerificationError("no valid signature")


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        key = secret
    else:
        encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
        # Some senders strip the padding; the specification's own libraries accept that.
        encoded += "=" * (-len(encoded) % 4)
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            # Not repeated in the message: it is the secret.
            raise ValueError("the webhook secret is not whsec_<base64>") from None
    if not key:
        raise ValueError("the webhook secret is empty")
    return key
