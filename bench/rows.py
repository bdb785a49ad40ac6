"""The rows of `make bench` (issue 11's table and item 6), in the order each round runs them.

A row is a front nginx (deploy/nginx/gatekeeper.conf, bench/servers.py) asking one decider,
the list of requests wrk sends through it, and optionally a load running beside it. The CPU
per request is charged to the decider's processes (rows A and B have none: nginx answers
alone; B answers the auth subrequest itself, in the location that would ask Gatekeeper, and
`hop` asks a second nginx that only says 204, the least any decider behind nginx costs).
"""

from __future__ import annotations

from dataclasses import dataclass

POSTGRES = "postgres"
REDIS = "redis"


@dataclass(frozen=True)
class Front:
    # The decider it asks (a server name); None: nginx answers the auth subrequest itself
    # with 204 (row B), or, without `auth`, serves the file unasked (row A).
    upstream: str | None
    auth: bool = True
    cache: bool = False


# Deciders and what each needs besides wrk, nginx and njs.
SERVER_NEEDS: dict[str, frozenset[str]] = {
    "responder": frozenset(),
    "django": frozenset(),
    "decisions": frozenset({POSTGRES, REDIS}),
    "sqlite": frozenset(),
    "tenk": frozenset({POSTGRES, REDIS}),
    "seed": frozenset({POSTGRES}),
    "gthread": frozenset(),
    "sync": frozenset(),
    "granian": frozenset(),
}

FRONTS: dict[str, Front] = {
    "static": Front(None, auth=False),
    "internal": Front(None),
    "responder": Front("responder"),
    "django": Front("django"),
    "decisions": Front("decisions"),
    "cached": Front("decisions", cache=True),
    "sqlite": Front("sqlite"),
    "tenk": Front("tenk"),
    "seed": Front("seed"),
    "gthread": Front("gthread"),
    "sync": Front("sync"),
    "granian": Front("granian"),
}

CHURN = "churn"  # a config change every second (bench/churn.py)
FLOOD = "flood"  # failed admin logins (bench/flood.py); the admin server runs for it
LOAD_NEEDS = {CHURN: frozenset({POSTGRES}), FLOOD: frozenset({POSTGRES})}


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    front: str
    requests: str  # a request list of bench/rounds.py
    load: str | None = None
    # Count answers by status (wrk calls Lua per answer: only rows compared with each other).
    statuses: bool = False

    @property
    def decider(self) -> str | None:
        return FRONTS[self.front].upstream

    @property
    def needs(self) -> frozenset[str]:
        upstream = self.decider
        server = SERVER_NEEDS[upstream] if upstream else frozenset()
        return server | LOAD_NEEDS.get(self.load or "", frozenset())


ROWS: tuple[Row, ...] = (
    Row("A", "A  nginx serving a static 200 (the ceiling)", "static", "key"),
    Row("B", "B  auth_request -> nginx return 204 (the mechanism)", "internal", "key"),
    Row("hop", "   auth_request -> a second nginx answering 204", "responder", "key"),
    Row("C", "C  auth_request -> bare Django view, gunicorn", "django", "key"),
    Row("public", "/authz public allow, PostgreSQL + Redis", "decisions", "public"),
    Row("key", "/authz API-key allow, PostgreSQL + Redis", "decisions", "key"),
    Row("hmac", "/authz HMAC allow, PostgreSQL + Redis", "decisions", "hmac"),
    Row("limited", "/authz API-key allow, rate-limited client", "decisions", "limited"),
    Row("sqlite", "/authz API-key allow, SQLite (embedded, 1 worker)", "sqlite", "key"),
    Row("cached", "cached API-key allow, one hot path", "cached", "key"),
    Row("cached-mix", "cached API-key allow, 1,000 paths x 100 keys (Zipf)", "cached", "mix"),
    Row("10k", "/authz API-key allow, 10,000 routes and clients", "tenk", "dataset"),
    Row("10k-churn", "  the same, a config change every second", "tenk", "dataset", CHURN),
    Row("seed", "seed-style decider (queries per request), gunicorn", "seed", "key"),
    Row("gthread", "trivial WSGI app, gunicorn gthread (2 x 4 threads)", "gthread", "key"),
    Row("sync", "trivial WSGI app, gunicorn sync (2 workers)", "sync", "key"),
    Row("granian", "trivial WSGI app, granian (2 workers)", "granian", "key"),
    Row("unloaded", "/authz API-key allow, statuses counted", "decisions", "key", statuses=True),
    Row("flood", "  the same under an admin login flood", "decisions", "key", FLOOD, True),
)

LABELS = {row.key: row.label for row in ROWS}
