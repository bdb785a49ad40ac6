"""Issuing, rotating and revoking credentials: atomic, audited, and the only place secrets are
made. The plaintext of a new key or secret exists only in the `IssuedSecret` these functions
return. Audit rows name a credential by kind, display prefix, label and expiry; never by its
plaintext, digest or sealed secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import event, record, record_many
from clients import encryption, keys
from clients.models import Client, Credential
from core import config_version
from core.actor import Actor
from core.batches import BULK_BATCH, Batch, bump_clients
from core.errors import Conflict, NotFound
from core.redaction import quote_short

REENCRYPT_BATCH = 500
# Digests per query when checking many imported keys at once (PostgreSQL takes at most 65,535
# parameters in one statement).
DIGEST_QUERY_BATCH = 5000


@dataclass(frozen=True)
class IssuedSecret:
    """A credential just issued, with the plaintext to show once.

    `retiring` holds the credentials a rotation put on a deadline (empty when issuing).
    """

    credential: Credential
    plaintext: str = field(repr=False)
    retiring: tuple[Credential, ...] = ()
    # For the operator, e.g. that an imported key is short enough to be guessed.
    warnings: tuple[str, ...] = ()


def _audit_detail(credential: Credential) -> dict[str, Any]:
    return {
        "client": credential.client.name,
        "kind": credential.kind,
        "prefix": credential.prefix,
        "label": credential.label,
        "expires_at": credential.expires_at.isoformat() if credential.expires_at else None,
    }


def _check_imported(value: str, field_name: str) -> None:
    try:
        keys.check_importable(value)
    except ValueError as exc:
        raise ValidationError({field_name: str(exc)}) from None


@dataclass(frozen=True)
class NewCredential:
    """A credential to issue: generated, or imported from `value` (a key or an HMAC secret)."""

    client: Client
    kind: str
    label: str = ""
    expires_at: datetime | None = None
    value: str | None = field(default=None, repr=False)


def _new_credential(item: NewCredential) -> tuple[Credential, str]:
    """An unsaved credential of the item's kind (generated, or imported from its value) with its
    plaintext: the one place a credential's secret comes into being. Raises ValidationError."""
    kind, value, expires_at = item.kind, item.value, item.expires_at
    if kind not in Credential.Kind.values:
        raise ValidationError(
            {"kind": f"{quote_short(kind)} is not a kind; use {', '.join(Credential.Kind.values)}."}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if kind == Credential.Kind.API_KEY:
        if value is None:
            plaintext, _, digest = keys.generate()
        else:
            _check_imported(value, "key")
            try:
                digest = keys.peppered_digest(value)
            except keys.NoPepper as exc:
                raise ValidationError({"key": str(exc)}) from None
            plaintext = value
        credential = Credential(
            client=item.client, kind=kind, prefix=keys.display_prefix(plaintext), digest=digest
        )
    else:
        if value is None:
            plaintext = secrets.token_urlsafe(32)
        else:
            _check_imported(value, "secret")
            plaintext = value
        # An independent random prefix: part of the secret itself would weaken it.
        credential = Credential(
            client=item.client,
            kind=kind,
            prefix=f"hmac_{secrets.token_hex(4)}",
            secret_encrypted=encryption.seal(plaintext),
        )
    credential.label = item.label
    credential.expires_at = expires_at
    # No constraint checks (the digest's is done for a whole batch at once, the database
    # enforces it) and no query for the client, which the caller holds.
    credential.full_clean(exclude=["client"], validate_constraints=False)
    return credential, plaintext


def _keys_in_use(plaintexts: Iterable[str]) -> set[str]:
    """The digests, among every form each key may be stored under, that a credential holds."""
    wanted = [digest for plaintext in plaintexts for digest in keys.lookup_digests(plaintext)]
    taken: set[str] = set()
    for start in range(0, len(wanted), DIGEST_QUERY_BATCH):
        chunk = wanted[start : start + DIGEST_QUERY_BATCH]
        taken.update(Credential.objects.filter(digest__in=chunk).values_list("digest", flat=True))
    return taken


@transaction.atomic
def issue_credentials(items: Sequence[NewCredential], *, actor: Actor) -> Batch[IssuedSecret]:
    """Issue many credentials at once (the config file's bulk path), each checked as one is;
    the valid ones written in a few statements with one audit row each."""
    batch: Batch[IssuedSecret] = Batch()
    made: list[tuple[int, NewCredential, Credential, str]] = []
    for index, item in enumerate(items):
        try:
            credential, plaintext = _new_credential(item)
        except ValidationError as exc:
            batch.errors[index] = exc
            continue
        made.append((index, item, credential, plaintext))
    # A generated key cannot collide (190 random bits); an imported one may be taken. Say only
    # that it is: naming its holder would confirm a guessed key. Every form it may be stored
    # under counts (an earlier import may be plain SHA-256).
    imported = [p for _, item, c, p in made if item.value is not None and c.digest is not None]
    taken = _keys_in_use(imported)
    valid = []
    for index, item, credential, plaintext in made:
        if item.value is not None and credential.digest is not None:
            forms = set(keys.lookup_digests(plaintext))
            if forms & taken:
                batch.errors[index] = ValidationError({"key": "This API key is already in use."})
                continue
            taken |= forms
        valid.append((index, item, credential, plaintext))
    Credential.objects.bulk_create([c for _, _, c, _ in valid], batch_size=BULK_BATCH)
    rows = []
    for index, item, credential, plaintext in valid:
        detail = {**_audit_detail(credential), "imported": item.value is not None}
        rows.append(event(actor, "credential.issued", credential, detail=detail))
        noun = "key" if item.kind == Credential.Kind.API_KEY else "secret"
        warning = keys.short_key_warning(plaintext, noun) if item.value is not None else None
        batch.done[index] = IssuedSecret(
            credential=credential, plaintext=plaintext, warnings=(warning,) if warning else ()
        )
    record_many(rows)
    bump_clients(item.client.pk for _, item, _, _ in valid)
    return batch


@transaction.atomic
def issue_api_key(
    client: Client,
    *,
    actor: Actor,
    label: str = "",
    expires_at: datetime | None = None,
    plaintext: str | None = None,
) -> IssuedSecret:
    """Issue a new API key, or import a legacy one (any shape) when `plaintext` is given.

    An imported key is stored under a keyed hash (GATEKEEPER_KEY_PEPPERS must be set, else a
    ValidationError on "key"); a short one comes back with a warning in `warnings`.
    """
    item = NewCredential(client, Credential.Kind.API_KEY, label, expires_at, plaintext)
    return issue_credentials([item], actor=actor).one()


@transaction.atomic
def issue_hmac_secret(
    client: Client,
    *,
    actor: Actor,
    label: str = "",
    expires_at: datetime | None = None,
    secret: str | None = None,
) -> IssuedSecret:
    """Issue a new HMAC secret, or import an existing one when `secret` is given."""
    item = NewCredential(client, Credential.Kind.HMAC, label, expires_at, secret)
    return issue_credentials([item], actor=actor).one()


@transaction.atomic
def rotate_credentials(
    client: Client, *, kind: str, grace: timedelta, actor: Actor
) -> IssuedSecret:
    """Issue a new credential of `kind`; every other live one of that kind stops working
    after `grace` (or sooner, if it was due to expire sooner). Callers keep working with the
    old credential while they switch to the new one."""
    if kind not in Credential.Kind.values:
        raise ValidationError(
            {"kind": f"{quote_short(kind)} is not a kind; use {', '.join(Credential.Kind.values)}."}
        )
    if grace < timedelta(0):
        raise ValidationError({"grace": "The grace period cannot be negative."})
    now = timezone.now()
    deadline = now + grace
    # Lock the old ones so a concurrent revoke or rotation cannot be overwritten.
    retiring = list(
        Credential.objects.select_for_update().live(now).filter(client=client, kind=kind)
    )
    for old in retiring:
        if old.expires_at is None or old.expires_at > deadline:
            old.expires_at = deadline
            old.save(update_fields=["expires_at"])
    credential, plaintext = _new_credential(NewCredential(client, kind))
    credential.save(force_insert=True)
    detail = {
        **_audit_detail(credential),
        "grace_seconds": int(grace.total_seconds()),
        "retiring": [
            {"prefix": old.prefix, "expires_at": old.expires_at.isoformat()} for old in retiring
        ],
    }
    record(actor, "credential.rotated", credential, detail=detail)
    return IssuedSecret(credential=credential, plaintext=plaintext, retiring=tuple(retiring))


@transaction.atomic
def revoke_credential(credential: Credential, *, actor: Actor) -> Credential:
    """Stop a credential working now. Revoking a revoked credential is a Conflict."""
    locked = Credential.objects.select_for_update().select_related("client").get(pk=credential.pk)
    if locked.revoked_at is not None:
        raise Conflict(f"{locked} of {locked.client} is already revoked.")
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record(actor, "credential.revoked", locked, detail=_audit_detail(locked))
    return locked


def get_credential(*, prefix: str | None = None, pk: int | None = None) -> Credential:
    """One credential by id, or by display prefix (unrevoked ones first; ambiguous -> Conflict)."""
    if pk is not None:
        try:
            return Credential.objects.select_related("client").get(pk=pk)
        except Credential.DoesNotExist:
            raise NotFound(f"No credential has id {pk}.") from None
    matches = Credential.objects.select_related("client").filter(prefix=prefix)
    candidates = list(matches.filter(revoked_at__isnull=True)) or list(matches)
    if not candidates:
        whole_key = keys.parse_prefix(prefix or "")
        if whole_key is not None:
            raise NotFound(
                f"That is a whole API key, not its prefix: pass only its prefix "
                f"{keys.SCHEME}_{whole_key}."
            )
        raise NotFound(f"No credential has the prefix {quote_short(prefix)}.")
    if len(candidates) > 1:
        ids = ", ".join(f"{c.pk} ({c.client})" for c in candidates)
        raise Conflict(f"The prefix {prefix!r} matches several credentials: ids {ids}.")
    return candidates[0]


@transaction.atomic
def reencrypt_hmac_secrets(*, actor: Actor, progress: Callable[[int], None] | None = None) -> int:
    """Seal every HMAC secret again with the first key in GATEKEEPER_SECRET_KEYS, all or none.

    Run it after putting a new key first; afterwards the old keys can be removed. `progress`
    gets the running count after every batch of REENCRYPT_BATCH rows.
    """
    pks = list(
        Credential.objects.filter(kind=Credential.Kind.HMAC)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for start in range(0, len(pks), REENCRYPT_BATCH):
        batch = list(
            Credential.objects.select_for_update()
            .filter(pk__in=pks[start : start + REENCRYPT_BATCH])
            .only("pk", "secret_encrypted")
        )
        for credential in batch:
            try:
                credential.secret_encrypted = encryption.reencrypt(credential.secret_encrypted)
            except encryption.EncryptionError as exc:
                raise encryption.EncryptionError(f"Credential {credential.pk}: {exc}") from None
        Credential.objects.bulk_update(batch, ["secret_encrypted"])
        done += len(batch)
        if progress is not None:
            progress(done)
    # bulk_update sends no signals; decision processes must reload the sealed values.
    config_version.bump()
    record(
        actor,
        "credential.secrets_reencrypted",
        object_type=Credential._meta.label_lower,
        detail={"count": done},
    )
    return done
