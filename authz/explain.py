"""Why a request gets its answer: every step of a decision, for people (design §4, §5).

`explain` is a pure function of the request facts, a snapshot and the clock. It runs the real
engine (`authz.engine.decide`), so the answer is the one `/authz` would give, but it claims no
HMAC nonce and counts against no rate limit: the explanation says which limit would apply,
not whether it is used up. Nothing in an `Explanation` holds a presented key or signature.

`explain_request`, the admin's access tester and the REST API's explain endpoint call it.
"""

from __future__ import annotations

import dataclasses
import enum
import secrets
from dataclasses import dataclass

from authz.engine import EngineConfig, RequestFacts, decide
from authz.matching import PathTable
from authz.nonces import DryNonces
from authz.normalize import Malformed, normalize_host, normalize_target
from authz.reasons import Detail, Reason
from authz.signatures import sign
from authz.snapshot import ApiKey, HmacSecret, Limit, RouteRule, Snapshot
from clients.keys import digest
from routes.models import Auth
from routes.patterns import METHODS, PatternError, parse_pattern

READ_HEADERS = ("authorization", "x-api-key")
# Credentials made up for "as client X": they exist only in a copy of the snapshot.
ASSUMED_CREDENTIAL_ID = 0


class HeaderError(ValueError):
    """A header line that cannot be read. The message never repeats the line: a malformed
    line is often a key pasted without its name."""


def read_headers(lines: list[str]) -> dict[str, str]:
    """{lower-case name: value} of `Name: value` lines, for the headers the engine reads."""
    headers = {}
    for number, raw in enumerate(lines, start=1):
        name, colon, value = raw.partition(":")
        name = name.strip().lower()
        if not colon or not name:
            raise HeaderError(f"header {number} is not 'Name: value' (its text is not shown)")
        if name not in READ_HEADERS:
            raise HeaderError(
                f"header {number}: only Authorization and X-API-Key are read "
                "(its text is not shown)"
            )
        headers[name] = value.strip()
    return headers


class Outcome(enum.StrEnum):
    """What a route that matches the path did in this decision."""

    CHOSEN = "chosen"
    # A route of a less specific domain: the chosen route's domain is consulted first.
    SHADOWED_BY_DOMAIN = "shadowed by a more specific domain"
    # Another pattern of the same domain that matches, but ranks below the chosen one.
    OUTRANKED = "outranked by a more specific pattern"


@dataclass(frozen=True, slots=True)
class Candidate:
    domain: str  # the domain entry (`api.example.com`, `*.example.com`, `*`)
    route: RouteRule
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ClientSummary:
    """The identified client, without its secrets."""

    id: str
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class Explanation:
    method: str
    host: str | None  # normalised; None when the request was refused before matching
    path: str | None
    refused: str | None  # why normalisation refused the request, in words
    domains: tuple[str, ...]  # the domain entries that apply to the host, most specific first
    candidates: tuple[Candidate, ...]  # every route that matches the path, chosen first
    route: RouteRule | None
    method_rule: str | None  # the auth the route asks of this method; None: not configured
    client: ClientSummary | None
    credential_id: int | None
    permission: tuple[str, ...] | None  # the methods the client holds on the route
    rate_limits: tuple[Limit, ...]  # the client's limits that count this request
    reason: Reason
    detail: Detail | None
    # "As client X": how X's credential was stood in for, or why it could not be.
    assumed: str | None = None

    @property
    def status(self) -> int:
        return self.reason.status

    @property
    def allowed(self) -> bool:
        return self.reason.allows

    @property
    def shadowing(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.outcome is not Outcome.CHOSEN)


def explain(
    facts: RequestFacts, snap: Snapshot, now: float, *, config: EngineConfig | None = None
) -> Explanation:
    """Decide `facts` as `/authz` would (without nonces or counters) and say why."""
    decision = decide(
        facts, snap, now, nonces=DryNonces(), limiter=None, config=config or EngineConfig()
    )
    host = path = refused = None
    domains: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    try:
        host = normalize_host(facts.host)
        path = normalize_target(facts.target).path
    except Malformed as exc:
        refused = f"{exc} ({exc.detail})"
    if host is not None and path is not None:
        tables = list(snap.index.tables_for(host))
        domains = tuple(domain for domain, _ in tables)
        candidates = _candidates(tables, path, snap)
    route = decision.route
    client = decision.client
    permission = None
    limits: tuple[Limit, ...] = ()
    if client is not None and route is not None:
        held = client.permissions.get(route.id)
        permission = tuple(m for m in METHODS if m in held) if held else None
        limits = tuple(lim for lim in client.limits if lim.route_id in (None, route.id))
    return Explanation(
        method=facts.method,
        host=host,
        path=path,
        refused=refused,
        domains=domains,
        candidates=candidates,
        route=route,
        method_rule=route.methods.get(facts.method) if route is not None else None,
        client=ClientSummary(client.id, client.name, client.status) if client else None,
        credential_id=decision.credential_id,
        permission=permission,
        rate_limits=limits,
        reason=decision.reason,
        detail=decision.detail,
    )


def _candidates(
    tables: list[tuple[str, PathTable[RouteRule]]], path: str, snap: Snapshot
) -> tuple[Candidate, ...]:
    """Every route that matches `path`, domain by domain, the winner of each domain first.

    The index answers only "the best route"; to name the others each route of an applying
    domain is matched on its own. That costs one pattern parse per route, fine for a person
    asking, never done on the decision path.
    """
    by_domain: dict[str, list[RouteRule]] = {}
    for rule in snap.routes.values():
        by_domain.setdefault(rule.domain, []).append(rule)
    found: list[Candidate] = []
    chosen_seen = False
    for domain, table in tables:
        best = table.match(path)
        if best is None:
            continue
        outcome = Outcome.SHADOWED_BY_DOMAIN if chosen_seen else Outcome.CHOSEN
        found.append(Candidate(domain, best, outcome))
        chosen_seen = True
        for rule in sorted(by_domain.get(domain, ()), key=lambda r: r.id):
            if rule.id != best.id and _matches(rule, path):
                found.append(Candidate(domain, rule, Outcome.OUTRANKED))
    return tuple(found)


def _matches(rule: RouteRule, path: str) -> bool:
    try:
        pattern = parse_pattern(rule.pattern)
    except PatternError:
        return False
    table: PathTable[RouteRule] = PathTable()
    table.add(pattern, rule)
    return table.match(path) is not None


def explain_as(
    client_id: str,
    facts: RequestFacts,
    snap: Snapshot,
    now: float,
    *,
    config: EngineConfig | None = None,
) -> Explanation:
    """Explain `facts` as if client `client_id` sent it with a valid credential of the kind
    the method rule asks for (an API key for `api_key` and `any`, a signature for `hmac`).

    The credential is made up in a copy of the snapshot; no real key or secret is used. A
    client that holds no live credential of that kind is explained without one, and the
    explanation says so.
    """
    client = snap.clients.get(client_id)
    bare = dataclasses.replace(facts, authorization=None, api_key_header=None)
    first = explain(bare, snap, now, config=config)
    if client is None:
        return dataclasses.replace(first, assumed="no such client: explained without credentials")
    rule = first.method_rule
    if rule is None or rule == Auth.PUBLIC:
        return dataclasses.replace(first, assumed=f"{client.name}: no credential needed")
    if rule in (Auth.API_KEY, Auth.ANY):
        if not any(
            key.client_id == client.id and _live(key, now) for key in snap.api_keys.values()
        ):
            return dataclasses.replace(first, assumed=f"{client.name} holds no live API key")
        token = secrets.token_urlsafe(32)
        stand_in = dataclasses.replace(
            snap,
            api_keys={
                **snap.api_keys,
                digest(token): ApiKey(ASSUMED_CREDENTIAL_ID, client.id, None),
            },
        )
        result = explain(
            dataclasses.replace(bare, authorization=f"Bearer {token}"), stand_in, now, config=config
        )
        return dataclasses.replace(result, assumed=f"as {client.name}, with a valid API key")
    if not any(_live(secret, now) for secret in client.hmac_secrets):
        return dataclasses.replace(first, assumed=f"{client.name} holds no live HMAC secret")
    secret = secrets.token_bytes(32)
    entry = dataclasses.replace(
        client, hmac_secrets=(HmacSecret(ASSUMED_CREDENTIAL_ID, secret, None),)
    )
    stand_in = dataclasses.replace(snap, clients={**snap.clients, client.id: entry})
    stamp, nonce = str(int(now)), secrets.token_hex(8)
    body = bare.body or b""
    signature = sign(secret, bare.method, bare.target, stamp, nonce, body)
    header = (
        f'HMAC client_id="{client.id}",timestamp="{stamp}",nonce="{nonce}",signature="{signature}"'
    )
    signed = dataclasses.replace(bare, authorization=header, body=body)
    result = explain(signed, stand_in, now, config=config)
    return dataclasses.replace(result, assumed=f"as {client.name}, with a valid HMAC signature")


def _live(credential: ApiKey | HmacSecret, now: float) -> bool:
    return credential.expires_at is None or credential.expires_at > now
