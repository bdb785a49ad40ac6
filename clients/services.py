"""Every change to clients and credentials: atomic, audited, and the only place secrets are made.

The plaintext of a new key or secret exists only in the `IssuedSecret` these functions return.
Audit rows name a credential by kind, display prefix, label and expiry; never by its plaintext,
digest or sealed secret.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from audit.services import record
from clients import encryption, keys
from clients.models import Client, Credential
from core import config_version
from core.actor import Actor
from core.errors import Conflict, NotFound
from core.redaction import quote_short

REENCRYPT_BATCH = 500


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


# --- clients ----------------------------------------------------------------------------------


def _check_status(status: str) -> None:
    if status not in Client.Status.values:
        raise ValidationError(
            {
                "status": f"{quote_short(status)} is not a status; "
                f"use {', '.join(Client.Status.values)}."
            }
        )


@transaction.atomic
def create_client(
    *,
    name: str,
    status: str = Client.Status.ACTIVE,
    description: str = "",
    client_id: uuid.UUID | None = None,
    actor: Actor,
) -> Client:
    """Create a client. Pass `client_id` to keep the id an HMAC client already signs with."""
    _check_status(status)
    client = Client(name=name, status=status, description=description)
    if client_id is not None:
        client.id = client_id
    client.full_clean()
    # force_insert: an id that already exists must fail, never overwrite that client.
    client.save(force_insert=True)
    record(actor, "client.created", client, detail={"name": name, "status": status})
    return client


@transaction.atomic
def update_client(
    client: Client, *, actor: Actor, name: str | None = None, description: str | None = None
) -> Client:
    """Change the given fields; nothing is saved or audited when nothing changes."""
    changes = {
        attr: value
        for attr, value in (("name", name), ("description", description))
        if value is not None and getattr(client, attr) != value
    }
    if not changes:
        return client
    before = {attr: getattr(client, attr) for attr in changes}
    for attr, value in changes.items():
        setattr(client, attr, value)
    client.full_clean()
    client.save(update_fields=[*changes, "updated_at"])
    record(
        actor,
        "client.updated",
        client,
        detail={attr: {"from": before[attr], "to": value} for attr, value in changes.items()},
    )
    return client


@transaction.atomic
def set_client_status(client: Client, status: str, *, actor: Actor) -> Client:
    """Set the status; a client that already has it is left alone (no audit row)."""
    _check_status(status)
    # Read the stored status under a lock: the caller's instance may already carry the new one.
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if locked.status == status:
        return locked
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    record(actor, "client.status_set", locked, detail={"from": before, "to": status})
    return locked


@transaction.atomic
def delete_client(client: Client, *, actor: Actor) -> None:
    """Delete the client, its credentials and everything else that hangs off it."""
    by_kind = dict(
        client.credentials.order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    object_id, object_repr = str(client.pk), str(client)
    _, deleted = client.delete()
    record(
        actor,
        "client.deleted",
        object_type=Client._meta.label_lower,
        object_id=object_id,
        object_repr=object_repr,
        detail={"name": object_repr, "credentials": by_kind, "deleted": deleted},
    )


def get_client(name_or_id: str) -> Client:
    """The client with this name (any case) or this id; NotFound otherwise."""
    try:
        return Client.objects.get(pk=uuid.UUID(name_or_id))
    except (ValueError, Client.DoesNotExist):
        pass
    try:
        return Client.objects.get(name__iexact=name_or_id)
    except Client.DoesNotExist:
        raise NotFound(f"No client has the name or id {quote_short(name_or_id)}.") from None


# --- credentials ------------------------------------------------------------------------------


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


def _new_credential(
    client: Client,
    kind: str,
    *,
    label: str,
    expires_at: datetime | None,
    value: str | None,
) -> tuple[Credential, str]:
    """Save a credential of `kind` (generated, or imported from `value`) and return it with
    its plaintext. The callers audit it."""
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
        # Say only that the key is taken: naming its holder would confirm a guessed key. Every
        # form it may be stored under counts (an earlier import may be plain SHA-256).
        if Credential.objects.filter(digest__in=keys.lookup_digests(plaintext)).exists():
            raise ValidationError({"key": "This API key is already in use."})
        credential = Credential(
            client=client, kind=kind, prefix=keys.display_prefix(plaintext), digest=digest
        )
    else:
        if value is None:
            plaintext = secrets.token_urlsafe(32)
        else:
            _check_imported(value, "secret")
            plaintext = value
        # An independent random prefix: part of the secret itself would weaken it.
        credential = Credential(
            client=client,
            kind=kind,
            prefix=f"hmac_{secrets.token_hex(4)}",
            secret_encrypted=encryption.seal(plaintext),
        )
    credential.label = label
    credential.expires_at = expires_at
    # validate_constraints=False: the digest check above says it kindly, the database enforces it.
    credential.full_clean(validate_constraints=False)
    credential.save(force_insert=True)
    return credential, plaintext


def _issue(
    client: Client,
    kind: str,
    *,
    actor: Actor,
    label: str,
    expires_at: datetime | None,
    value: str | None,
) -> IssuedSecret:
    credential, plaintext = _new_credential(
        client, kind, label=label, expires_at=expires_at, value=value
    )
    detail = {**_audit_detail(credential), "imported": value is not None}
    record(actor, "credential.issued", credential, detail=detail)
    noun = "key" if kind == Credential.Kind.API_KEY else "secret"
    warning = keys.short_key_warning(value, noun) if value is not None else None
    return IssuedSecret(
        credential=credential, plaintext=plaintext, warnings=(warning,) if warning else ()
    )


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
    return _issue(
        client,
        Credential.Kind.API_KEY,
        actor=actor,
        label=label,
        expires_at=expires_at,
        value=plaintext,
    )


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
    return _issue(
        client, Credential.Kind.HMAC, actor=actor, label=label, expires_at=expires_at, value=secret
    )


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
    credential, plaintext = _new_credential(client, kind, label="", expires_at=None, value=None)
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
