"""API tokens on the wire: `gka_<prefix>_<secret>`, the same format and digest as client API
keys (`clients/keys.py`, where the reasoning for unkeyed SHA-256 is written), under a scheme
of their own so that scanners and people tell an admin token from a client key."""

from __future__ import annotations

import hmac

from clients import keys

SCHEME = "gka"


def generate() -> tuple[str, str, str]:
    """(plaintext, display prefix `gka_<prefix>`, digest): show the plaintext once."""
    plaintext, prefix, digest = keys.generate(SCHEME)
    return plaintext, f"{SCHEME}_{prefix}", digest


def display_prefix(presented: str) -> str | None:
    """The stored prefix a presented token would have, or None for any other shape."""
    prefix = keys.parse_prefix(presented, SCHEME)
    return None if prefix is None else f"{SCHEME}_{prefix}"


def matches(presented: str, stored_digest: str) -> bool:
    """Whether `presented` is the token stored as `stored_digest`, in constant time."""
    return hmac.compare_digest(keys.digest(presented).encode(), stored_digest.encode())
