"""Why a request gets its answer: every step of a decision, for people (design §4, §5).

`explain` is a pure function of the request facts, a snapshot and the clock. It runs the real
engine (`authz.engine.decide`), so the answer is the one `/authz` would give, but it claims no
HMAC nonce and counts against no rate limit: the explanation says which limit would apply,
not whether it is used up. Nothing in an `Explanation` holds a presented key or signature.

`explain_request`, the admin's access tester and the REST API's explain endpoint call it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from authz.engine import EngineConfig, RequestFacts, decide
from authz.matching import PathTable
from authz.normalize import Malformed, normalize_host, normalize_target
from authz.reasons import Detail, Reason
from authz.snapshot import Limit, RouteRule, Snapshot
from routes.patterns import METHODS, PatternError, parse_pattern


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

    @property
    def status(self) -> int:
        return self.reason.status

    @property
    def allowed(self) -> bool:
        return self.reason.allows

    @property
    def shadowing(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.outcome is not Outcome.CHOSEN)


class _DryNonces:
    """Explaining must not burn a nonce: every nonce is fresh and none is stored."""

    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        return True


def explain(
    facts: RequestFacts, snap: Snapshot, now: float, *, config: EngineConfig | None = None
) -> Explanation:
    """Decide `facts` as `/authz` would (without nonces or counters) and say why."""
    decision = decide(
        facts, snap, now, nonces=_DryNonces(), limiter=None, config=config or EngineConfig()
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
