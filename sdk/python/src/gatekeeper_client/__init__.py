"""Call a Gatekeeper-protected API: API keys, HMAC-signed requests, webhook verification.

    import requests
    from gatekeeper_client import GatekeeperHmacAuth

    auth = GatekeeperHmacAuth(client_id, secret)
    requests.post("https://api.example.com/v1/orders", json={"id": 7}, auth=auth)

`GatekeeperKeyAuth` and `GatekeeperHmacAuth` work with `requests` and `httpx` (neither is a
dependency; they are imported only when the auth classes are first used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gatekeeper_client.signing import (
    MAX_SKEW_SECONDS,
    new_nonce,
    sign,
    signature,
    string_to_sign,
)
from gatekeeper_client.webhooks import (
    WEBHOOK_TOLERANCE_SECONDS,
    WebhookVerificationError,
    verify_webhook,
)

if TYPE_CHECKING:
    from gatekeeper_client.auth import GatekeeperHmacAuth, GatekeeperKeyAuth

__version__ = "0.1.0"
__all__ = [
    "MAX_SKEW_SECONDS",
    "WEBHOOK_TOLERANCE_SECONDS",
    "GatekeeperHmacAuth",
    "GatekeeperKeyAuth",
    "WebhookVerificationError",
    "new_nonce",
    "sign",
    "signature",
    "string_to_sign",
    "verify_webhook",
]
_LAZY = frozenset({"GatekeeperHmacAuth", "GatekeeperKeyAuth"})


def __getattr__(name: str) -> Any:
    # The auth module imports requests and httpx when they are installed: only on demand.
    if name in _LAZY:
        from gatekeeper_client import auth

        return getattr(auth, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
