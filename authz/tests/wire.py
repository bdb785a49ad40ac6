"""Credentials as clients put them on the wire, for tests that ask /authz."""

from __future__ import annotations

import time

from authz.signatures import sign

SIGNED = "HTTP_AUTHORIZATION"


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def hmac_header(world, method: str, target: str, body: str = "", **kwargs) -> dict[str, str]:
    signer = world.signer(**kwargs)
    return {SIGNED: signer._create_auth_header(method, target, body)}


def crafted_hmac(world, method, target, *, timestamp=None, nonce="n-1", body=b"") -> dict[str, str]:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = sign(world.acme_secret.encode(), method, target, timestamp, nonce, body)
    value = (
        f'HMAC client_id="{world.acme.id}",timestamp="{timestamp}",'
        f'nonce="{nonce}",signature="{signature}"'
    )
    return {SIGNED: value}
