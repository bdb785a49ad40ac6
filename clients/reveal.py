"""Secrets shown once, after a redirect: the admin's issue, rotate and action buttons POST,
then the browser is sent to a page that shows the new secrets exactly once.

Between the POST and that page the plaintext waits in the shared cache, sealed with the
HMAC-secret key (`clients.encryption`), under a random token, for at most PENDING_SECONDS,
and only for the staff user who issued it. Showing it deletes it; of two requests racing
for one token only the one whose delete succeeded shows it. A reload, a second tab or the
back button finds nothing and says so, so no reload ever issues another key. A secret that
was never shown (the cache lost it, the page was never opened) is a credential nobody holds:
revoke it and issue another.

`keep` and `take_kept` are the mechanism alone, for other secrets shown once the same way
(webhook signing secrets); `stash` and `take` are it for credentials.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from clients import encryption
from clients.models import Credential
from clients.services import IssuedSecret

PENDING_SECONDS = 600


@dataclass(frozen=True)
class Revealed:
    credential: Credential
    plaintext: str = field(repr=False)
    retiring: tuple[Credential, ...] = ()


def _key(token: str) -> str:
    return f"gatekeeper:reveal:{token}"


def keep(payload: dict[str, Any], *, user_id: int) -> str:
    """Keep `payload` (JSON-safe, secrets in it) sealed for one viewing by `user_id`; returns
    the token for the page's URL."""
    token = secrets.token_urlsafe(24)
    sealed = encryption.seal(json.dumps({"user": user_id, "payload": payload}))
    cache.set(_key(token), sealed, timeout=PENDING_SECONDS)
    return token


def take_kept(token: str, *, user_id: int) -> dict[str, Any] | None:
    """The payload behind `token`, once; None when already shown, expired, or not this
    user's."""
    sealed = cache.get(_key(token))
    if sealed is None:
        return None
    try:
        kept = json.loads(encryption.unseal(sealed))
    except (encryption.EncryptionError, ValueError):
        return None
    if kept["user"] != user_id or not cache.delete(_key(token)):
        return None
    return kept["payload"]


def stash(issued: list[IssuedSecret], *, user_id: int) -> str:
    """Keep `issued` for one viewing by `user_id`; returns the token for the page's URL."""
    payload = {
        "items": [
            {
                "credential": item.credential.pk,
                "plaintext": item.plaintext,
                "retiring": [old.pk for old in item.retiring],
            }
            for item in issued
        ],
    }
    return keep(payload, user_id=user_id)


def take(token: str, *, user_id: int) -> list[Revealed] | None:
    """The secrets behind `token`, once; None when already shown, expired, or not this user's."""
    payload = take_kept(token, user_id=user_id)
    if payload is None:
        return None
    ids = {item["credential"] for item in payload["items"]}
    ids.update(pk for item in payload["items"] for pk in item["retiring"])
    found = Credential.objects.select_related("client").in_bulk(ids)
    return [
        Revealed(
            credential=found[item["credential"]],
            plaintext=item["plaintext"],
            retiring=tuple(found[pk] for pk in item["retiring"] if pk in found),
        )
        for item in payload["items"]
        if item["credential"] in found
    ]
