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
    # A proxy may cache this answer for a second: it depends on nothing but the method, host,
    # target and credential headers (never HMAC: a nonce is single-use; never a client with a
    # rate limit: every call must be counted).
    cacheable: bool = False

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
        return Decision(Reason.NO_ROUTE_MATCH, host=host, path=target.path, cacheable=True)
    auth = route.methods.get(method)
    if auth is None:
        return Decision(
            Reason.METHOD_NOT_CONFIGURED, route=route, host=host, path=target.path, cacheable=True
        )
    if auth == Auth.PUBLIC:
        return Decision(
            Reason.NO_AUTH_REQUIRED, route=route, host=host, path=target.path, cacheable=True
        )

    try:
        presented = extract(
            facts.authorization, facts.api_key_header, target.query, config.query_params
        )
    except CredentialError as exc:
        return Decision(
            Reason.INVALID_CREDENTIALS,
            exc.detail,
            route=route,
            host=host,
            path=target.path,
            auth=auth,
        )
    outcome = _authenticate(presented, auth, facts, snap, now, nonces, config)
    client = outcome.client

    def decided(reason: Reason, detail: Detail | None = None, usage: Usage | None = None):
        return Decision(
            reason,
            detail,
            route=route,
            client=client,
            credential_id=outcome.credential_id,
            host=host,
            path=target.path,
            auth=auth,
            usage=usage,
            cacheable=presented.hmac is None and not (client is not None and client.limits),
        )

    if outcome.detail is not None:
        # `client`, when the credential names one, is for the audit trail only: the identity
        # headers are sent for `authenticated` alone.
        return decided(Reason.INVALID_CREDENTIALS, outcome.detail)
    assert client is not None

    status_reason = _STATUS_REASONS.get(client.status)
    if status_reason is not None:
        return decided(status_reason)
    allowed_methods = client.permissions.get(route.id)
    if allowed_methods is None:
        return decided(Reason.NO_PERMISSION)
    if method not in allowed_methods:
        return decided(Reason.METHOD_NOT_ALLOWED)
    usage = limiter.check(client, route.id, now) if limiter is not None else None
    reason = (
        Reason.RATE_LIMIT_EXCEEDED if usage is not None and usage.exceeded else Reason.AUTHENTICATED
    )
    return decided(reason, usage=usage)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """Who a credential names (when it names anyone) and why it failed (None: it passed)."""

    client: ClientEntry | None
    credential_id: int | None
    detail: Detail | None


def _failed(
    detail: Detail, client: ClientEntry | None = None, credential_id: int | None = None
) -> _Outcome:
    """A failure; `client` and `credential_id` only when the credential names them (an expired
    or revoked one), for the audit trail and events, never for the identity headers."""
    return _Outcome(client, credential_id, detail)


def _authenticate(
    presented: Presented,
    auth: str,
    facts: RequestFacts,
    snap: Snapshot,
    now: float,
    nonces: Nonces,
    config: EngineConfig,
) -> _Outcome:
    if presented.api_key is not None:
        if auth not in _KEY_AUTHS:
            return _failed(Detail.WRONG_AUTH_TYPE)
        return _check_key(presented.api_key, snap, now)
    if presented.hmac is not None:
        if auth not in _HMAC_AUTHS:
            return _failed(Detail.WRONG_AUTH_TYPE)
        return _verify_hmac(presented.hmac, facts, snap, now, nonces, config)
    return _failed(Detail.MISSING_CREDENTIALS)


def _check_key(plaintext: str, snap: Snapshot, now: float) -> _Outcome:
    # A miss costs the same as a hit: the same digests and dictionary lookups.
    found = revoked = None
    for stored in lookup_digests(plaintext):
        found = found or snap.api_keys.get(stored)
        revoked = revoked or snap.revoked_keys.get(stored)
    if found is None:
        if revoked is not None:
            return _failed(
                Detail.REVOKED_CREDENTIAL,
                snap.clients.get(revoked.client_id),
                revoked.credential_id,
            )
        return _failed(Detail.UNKNOWN_CREDENTIAL)
    client = snap.clients.get(found.client_id)
    if client is None:
        return _failed(Detail.UNKNOWN_CREDENTIAL)
    if found.expires_at is not None and found.expires_at <= now:
        return _failed(Detail.EXPIRED_CREDENTIAL, client, found.credential_id)
    return _Outcome(client, found.credential_id, None)


def _verify_hmac(
    fields: HmacFields,
    facts: RequestFacts,
    snap: Snapshot,
    now: float,
    nonces: Nonces,
    config: EngineConfig,
) -> _Outcome:
    client = snap.clients.get(fields.client_id)
    secrets = client.hmac_secrets if client is not None else ()
    live = tuple(s for s in secrets if s.expires_at is None or s.expires_at > now)
    if facts.body is None:
        # Never accept a signature over a body we did not see (design §6, proxy-facts §1.4).
        return _failed(Detail.BODY_UNAVAILABLE, client)
    signer = find_signer([s.secret for s in live], fields, facts.method, facts.target, facts.body)
    if signer is None:
        if client is None or not secrets:
            return _failed(Detail.UNKNOWN_CREDENTIAL, client)
        expired = [s.secret for s in secrets if s not in live]
        if (
            expired
            and find_signer(expired, fields, facts.method, facts.target, facts.body) is not None
        ):
            return _failed(Detail.EXPIRED_CREDENTIAL, client)
        return _failed(Detail.INVALID_SIGNATURE, client)
    if not timestamp_fresh(fields.timestamp, now, config.max_skew):
        return _failed(Detail.STALE_TIMESTAMP, client)
    # Claimed only after the signature verified, or anyone could burn a client's nonces.
    try:
        fresh = nonces.claim(client.id, fields.nonce, 2 * config.max_skew)
    except Exception as exc:
        if not config.hmac_fail_open:
            raise ReplayCheckUnavailable(type(exc).__name__) from exc
        fresh = True
    if not fresh:
        return _failed(Detail.REPLAYED_NONCE, client)
    return _Outcome(client, live[signer].credential_id, None)
