"""Which live credentials of a client a config file's credential entries name (see plan.py).

An entry with a value (`key:`, `secret:`) names the live credential holding that value. An
entry without one names a live credential of its kind and label that no value claimed, newest
first (after a rotation, the new credential), and only the shortfall is generated: applying a
file twice generates nothing the second time. What no entry names is `unnamed`: --prune
revokes it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from clients import encryption, keys
from clients.models import Credential
from permissions.configfile.spec import CredentialSpec


class LiveCredential(NamedTuple):
    """What matching needs of a live credential (a row, not a model instance: a file of
    10,000 clients reads 10,000 of them). `pk` is all a service needs to revoke it."""

    pk: int
    kind: str
    label: str
    prefix: str
    digest: str | None
    secret_encrypted: str
    created_at: datetime

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return ("id", *cls._fields[1:])


@dataclass(frozen=True)
class CredentialMatch:
    kept: tuple[LiveCredential, ...]  # live credentials an entry names
    missing: tuple[tuple[CredentialSpec, str], ...]  # (entry, "imported" or "generated")
    unnamed: tuple[LiveCredential, ...]  # live credentials no entry names


def match_credentials(
    entries: Iterable[CredentialSpec], live: Iterable[LiveCredential]
) -> CredentialMatch:
    newest_first = sorted(live, key=lambda c: (c.created_at, c.pk), reverse=True)
    kept: list[LiveCredential] = []
    missing: list[tuple[CredentialSpec, str]] = []
    without_value: dict[tuple[str, str], list[CredentialSpec]] = {}

    def free(credential: LiveCredential) -> bool:
        return all(credential.pk != k.pk for k in kept)

    for entry in entries:
        if entry.value is None:
            without_value.setdefault((entry.kind, entry.label), []).append(entry)
            continue
        holder = next((c for c in newest_first if free(c) and _holds(c, entry)), None)
        if holder is None:
            missing.append((entry, "imported"))
        else:
            kept.append(holder)
    for (kind, label), wanted in without_value.items():
        have = [c for c in newest_first if free(c) and (c.kind, c.label) == (kind, label)]
        kept.extend(have[: len(wanted)])
        missing.extend((entry, "generated") for entry in wanted[len(have) :])
    unnamed = tuple(c for c in newest_first if free(c))
    return CredentialMatch(tuple(kept), tuple(missing), unnamed)


def _holds(credential: LiveCredential, spec: CredentialSpec) -> bool:
    """Whether a live credential is the one `spec` imports (compared in constant time)."""
    if credential.kind != spec.kind or spec.value is None:
        return False
    if credential.kind == Credential.Kind.API_KEY:
        stored = (credential.digest or "").encode()
        # Under whichever form it was stored: SHA-256 (imported before peppers) or a pepper.
        return any(hmac.compare_digest(stored, d.encode()) for d in keys.lookup_digests(spec.value))
    stored, given = encryption.unseal(credential.secret_encrypted), spec.value
    return hmac.compare_digest(stored.encode(), given.encode())
