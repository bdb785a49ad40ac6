"""The decision (design §5): request facts + snapshot + clock -> Decision. No ORM, no settings.

Order: normalise -> match route -> method rule -> (public: allow) -> authenticate per the
rule's auth -> client status -> permission -> allow. Every denial carries a Reason (sent to the
proxy) and, where useful, a Detail (audit and log only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from authz.credentials import CredentialError, HmacFields, Presented, extract
from authz.normalize import Malformed, check_method, normalize_host, normalize_target
from authz.ratelimit import Usage
from authz.reasons import Detail, Reason
from authz.signatures import find_signer, timestamp_fresh
from authz.snapshot import ClientEntry, RouteRule, Snapshot
from clients.keys import lookup_digests
from routes.models import Auth

_KEY_AUTHS = frozenset({Auth.API_KEY, Auth.ANY})
_HMAC_AUTHS = frozenset({Auth.HMAC, Auth.ANY})
_STATUS_REASONS = {"suspended": Reason.CLIENT_SUSPENDED, "revoked": Reason.CLIENT_REVOKED}


class Nonces(Protocol):
    def claim(self, client_id: str, nonce: str, ttl: int) -> bool: ...


class Limiter(Protocol):
    def check(self, client: ClientEntry, route_id: int, now: float) -> Usage | None: ...


class ReplayCheckUnavailable(Exception):
    """The replay store could not be asked and the policy is to fail closed."""


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings the engine needs, read once at the edge (never per decision)."""

    query_params: tuple[str, ...] = ("api_key",)
    max_skew: int = 300
    hmac_fail_open: bool = False


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the proxy told us. `body` is None when the request had a body we did not get."""

    method: str
    host: str
    target: str
    authorization: str | None = field(default=None, repr=False)
    api_key_header: str | None = field(default=None, repr=False)
    body: bytes | None = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True)
class Decision:
    reason: Reason
    detail: Detail | None = None
    route: RouteRule | None = None
    client: ClientEntry | None = None
    credential_id: int | None = None
    host: str | None = None
    path: str | None = None
    auth: str | None = None  # what the matched method rule requires
    usage: Usage | None = None  # the tightest rate limit, where one applies

    @property
    def allowed(self) -> bool:
        return self.reason.allows


def malformed(detail: Detail) -> Decision:
    return Decision(Reason.MALFORMED_REQUEST, detail)


def decide(
    facts: RequestFacts,
    snap: Snapshot,
    now: float,
    *,
    nonces: Nonces,
    limiter: Limiter | None = None,
    config: EngineConfig = EngineConfig(),
) -> Decision:
    """Decide one request from the snapshot alone (and the shared counters: nonces, limits)."""
    try:
        method = check_method(facts.method)
        host = normalize_host(facts.host)
        target = normalize_target(facts.target)
    except Malformed as exc:
        return malformed(exc.detail)
    route = snap.index.match(host, target.path)
    if route is None:
        return Decision(Reason.NO_ROUTE_MATCH, host=host, path=target.path)
    auth = route.methods.get(method)
    if auth is None:
        return Decision(Reason.METHOD_NOT_CONFIGURED, route=route, host=host, path=target.path)
    if auth == Auth.PUBLIC:
        return Decision(Reason.NO_AUTH_REQUIRED, route=route, host=host, path=target.path)

    def deny(reason: Reason, detail: Detail | None = None, **extra: object) -> Decision:
        return Decision(
            reason, detail, route=route, host=host, path=target.path, auth=auth, **extra
        )

    try:
        presented = extract(
            facts.authorization, facts.api_key_header, target.query, config.query_params
        )
    except CredentialError as exc:
        return deny(Reason.INVALID_CREDENTIALS, exc.detail)
    client, credential_id, detail = _authenticate(presented, auth, facts, snap, now, nonces, config)
    if client is None:
        return deny(Reason.INVALID_CREDENTIALS, detail)

    status_reason = _STATUS_REASONS.get(client.status)
    if status_reason is not None:
        return deny(status_reason, client=client, credential_id=credential_id)
    allowed_methods = client.permissions.get(route.id)
    if allowed_methods is None:
        return deny(Reason.NO_PERMISSION, client=client, credential_id=credential_id)
    if method not in allowed_methods:
        return deny(Reason.METHOD_NOT_ALLOWED, client=client, credential_id=credential_id)
    usage = limiter.check(client, route.id, now) if limiter is not None else None
    reason = (
        Reason.RATE_LIMIT_EXCEEDED if usage is not None and usage.exceeded else Reason.AUTHENTICATED
    )
    return deny(reason, client=client, credential_id=credential_id, usage=usage)


def _authenticate(
    presented: Presented,
    auth: str,
    facts: RequestFacts,
    snap: Snapshot,
    now: float,
    nonces: Nonces,
    config: EngineConfig,
) -> tuple[ClientEntry | None, int | None, Detail | None]:
    """(client, credential id, None) on success, (None, None, detail) on failure."""
    if presented.api_key is not None:
        if auth not in _KEY_AUTHS:
            return None, None, Detail.WRONG_AUTH_TYPE
        # A miss costs the same as a hit: every stored form computed and looked up, always.
        key = next(
            filter(None, [snap.api_keys.get(d) for d in lookup_digests(presented.api_key)]), None
        )
        if key is None:
            return None, None, Detail.UNKNOWN_CREDENTIAL
        if key.expires_at is not None and key.expires_at <= now:
            return None, None, Detail.EXPIRED_CREDENTIAL
        client = snap.clients.get(key.client_id)
        return (
            (client, key.credential_id, None) if client else (None, None, Detail.UNKNOWN_CREDENTIAL)
        )
    if presented.hmac is not None:
        if auth not in _HMAC_AUTHS:
            return None, None, Detail.WRONG_AUTH_TYPE
        return _verify_hmac(presented.hmac, facts, snap, now, nonces, config)
    return None, None, Detail.MISSING_CREDENTIALS


def _verify_hmac(
    fields: HmacFields,
    facts: RequestFacts,
    snap: Snapshot,
    now: float,
    nonces: Nonces,
    config: EngineConfig,
) -> tuple[ClientEntry | None, int | None, Detail | None]:
    client = snap.clients.get(fields.client_id)
    secrets = client.hmac_secrets if client is not None else ()
    live = tuple(s for s in secrets if s.expires_at is None or s.expires_at > now)
    if facts.body is None:
        # Never accept a signature over a body we did not see (design §6, proxy-facts §1.4).
        return None, None, Detail.BODY_UNAVAILABLE
    signer = find_signer([s.secret for s in live], fields, facts.method, facts.target, facts.body)
    if signer is None:
        if client is None or not secrets:
            return None, None, Detail.UNKNOWN_CREDENTIAL
        expired = [s.secret for s in secrets if s not in live]
        if (
            expired
            and find_signer(expired, fields, facts.method, facts.target, facts.body) is not None
        ):
            return None, None, Detail.EXPIRED_CREDENTIAL
        return None, None, Detail.INVALID_SIGNATURE
    if not timestamp_fresh(fields.timestamp, now, config.max_skew):
        return None, None, Detail.STALE_TIMESTAMP
    # Claimed only after the signature verified, or anyone could burn a client's nonces.
    try:
        fresh = nonces.claim(client.id, fields.nonce, 2 * config.max_skew)
    except Exception as exc:
        if not config.hmac_fail_open:
            raise ReplayCheckUnavailable(type(exc).__name__) from exc
        fresh = True
    if not fresh:
        return None, None, Detail.REPLAYED_NONCE
    return client, live[signer].credential_id, None
