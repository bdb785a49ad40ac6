"""Engine benchmark: microseconds per decision, as a ratio to a baseline measured in this run.

The baseline is the least any API-key decision must do: hash the presented key and look the
digest up in a dict. The ratio says how much the rest of the decision (normalising, matching,
rule, permission) costs on top of it, independent of how fast or busy this machine is today.
Run: `make bench` (or `.venv/bin/python -m bench.engine`).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.test_settings")

import django

django.setup()

from authz.engine import RequestFacts, decide  # noqa: E402
from authz.matching import RouteIndex  # noqa: E402
from authz.signatures import sign  # noqa: E402
from authz.snapshot import ApiKey, ClientEntry, HmacSecret, RouteRule, Snapshot  # noqa: E402
from clients.keys import digest  # noqa: E402
from routes.patterns import parse_pattern  # noqa: E402

KEY = "gk_bench000_" + "k" * 32
SECRET = b"bench-secret"
CLIENT = "7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11"
ROUNDS, REPEATS = 20_000, 5


class NoNonces:
    def claim(self, client_id: str, nonce: str, ttl: int) -> bool:
        return True


def snapshot(route_count: int) -> Snapshot:
    rules = [
        RouteRule(i, "*", f"/svc{i}/items/{{id}}/*", "svc", {"GET": "api_key"})
        for i in range(route_count)
    ]
    rules.append(RouteRule(-1, "*", "/api/data/*", "data", {"GET": "api_key", "POST": "hmac"}))
    rules.append(RouteRule(-2, "*", "/api/public/*", "public", {"GET": "public"}))
    index = RouteIndex((r.domain, parse_pattern(r.pattern), r) for r in rules)
    client = ClientEntry(
        CLIENT,
        "bench",
        "active",
        {-1: frozenset({"GET", "POST"})},
        hmac_secrets=(HmacSecret(2, SECRET, None),),
    )
    keys = {digest(KEY): ApiKey(1, CLIENT, None)}
    return Snapshot("v", 0.0, index, {r.id: r for r in rules}, {CLIENT: client}, keys)


def per_call(fn: Callable[[], object]) -> float:
    """Median microseconds per call over REPEATS runs of ROUNDS calls."""
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(ROUNDS):
            fn()
        runs.append((time.perf_counter() - start) / ROUNDS * 1e6)
    return statistics.median(runs)


def main() -> None:
    keys = {digest(KEY): 1}
    baseline = per_call(lambda: keys.get(digest(KEY)))
    now = time.time()
    stamp = str(int(now))
    signature = sign(SECRET, "POST", "/api/data/x", stamp, "n", b"")
    hmac_header = f'HMAC client_id="{CLIENT}",timestamp="{stamp}",nonce="n",signature="{signature}"'
    cases = {
        "public allow": ("GET", "/api/public/x", None),
        "api-key allow": ("GET", "/api/data/items/42?x=1", f"Bearer {KEY}"),
        "hmac allow": ("POST", "/api/data/x", hmac_header),
        "denied path (..)": ("GET", "/api/public/../data/x", f"Bearer {KEY}"),
    }
    print(f"baseline (sha256 + dict lookup): {baseline:.2f} us")
    print(f"{'case':<20} {'routes':>7} {'us/decision':>12} {'x baseline':>11}")
    for routes in (10, 1000, 10_000):
        snap = snapshot(routes)
        for name, (method, target, authorization) in cases.items():
            facts = RequestFacts(method, "api.example.com", target, authorization=authorization)
            cost = per_call(lambda f=facts, s=snap: decide(f, s, now, nonces=NoNonces()))
            print(f"{name:<20} {routes:>7} {cost:>12.2f} {cost / baseline:>11.1f}")


if __name__ == "__main__":
    main()
