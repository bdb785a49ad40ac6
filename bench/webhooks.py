"""Webhook observer benchmark: what decision-driven webhooks add to `/authz`.

Times the decision server's whole answer to one `/authz` request (`authz.asgi.route`: read
the proxy's headers, decide, observe, audit, build the response; everything but the socket)
with and without the webhook observer registered, in interleaved rounds so that a busy
machine slows both alike, and prints the medians. The requests flood one client as fast as
this process can ask (far above 1,000 a second), and the benchmark counts what the observer
handed on from the flood: one event per signal interval per event type, whatever the rate.
Each endpoint's cooldown then lets one per cooldown through (the test suite checks that part
against the database: webhooks/tests/test_decision_events.py).

Run: `.venv/bin/python -m bench.webhooks` (no database or Redis needed).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.test_settings")
# A state directory of its own (the hand-off and audit spools), and no shared store: the
# numbers are Gatekeeper's own work, not Redis round trips.
os.environ["GATEKEEPER_STATE_DIR"] = tempfile.mkdtemp(prefix="gatekeeper-bench-webhooks-")
os.environ["REDIS_URL"] = ""

import django

django.setup()

from django.conf import settings  # noqa: E402

from authz import observers, runtime, shapes  # noqa: E402
from authz.asgi import route  # noqa: E402
from authz.engine import decide  # noqa: E402
from authz.incoming import Incoming  # noqa: E402
from authz.ratelimit import Usage  # noqa: E402
from authz.refresh import SnapshotHolder  # noqa: E402
from authz.snapshot import ApiKey, ClientEntry, Limit, Snapshot  # noqa: E402
from bench.engine import CLIENT, KEY, snapshot  # noqa: E402
from clients.keys import digest  # noqa: E402
from webhooks import decisions  # noqa: E402

ROUNDS, PER_ROUND = 15, 4_000
FLOODER = "0b7f7b52-6c35-4a5e-9d0e-5f6f2c3d4e5f"
FLOODER_KEY = "gk_flooder_" + "f" * 32
EXPIRED_KEY = "gk_expired_" + "e" * 32


class Exceeded:
    """The flooding client has used up its limit: every one of its requests is denied."""

    def check(self, client: ClientEntry, route_id: int, now: float) -> Usage | None:
        return Usage(100, -1, 30.0) if client.limits else None


def world() -> Snapshot:
    snap = snapshot(1000)
    client = snap.clients[CLIENT]
    flooder = dataclasses.replace(
        client, id=FLOODER, name="flooder", limits=(Limit(None, 100, 60),)
    )
    keys = {
        **snap.api_keys,
        digest(FLOODER_KEY): ApiKey(4, FLOODER, None),
        digest(EXPIRED_KEY): ApiKey(3, CLIENT, time.time() - 3600),
    }
    return dataclasses.replace(snap, api_keys=keys, clients={CLIENT: client, FLOODER: flooder})


def request(key: str) -> Incoming:
    headers = {
        "x-original-method": "GET",
        "x-original-uri": "/api/data/1",
        "x-original-host": "api.example.com",
        "authorization": f"Bearer {key}",
    }
    return Incoming("GET", "/authz", "", headers, frozenset(), "127.0.0.1")


def per_answer(incoming: Incoming) -> float:
    """Microseconds per `/authz` answer over PER_ROUND of them."""
    started = time.perf_counter()
    for _ in range(PER_ROUND):
        route(incoming)
    return (time.perf_counter() - started) / PER_ROUND * 1e6


def observer_alone(incoming: Incoming) -> float:
    """Microseconds the observer itself takes for this request's decision (median of
    ROUNDS): the difference it can make to an answer, without the rest's noise."""
    decider = runtime.get_runtime()
    now = time.time()
    facts = shapes.for_path("/authz").read(incoming)
    decision = decide(facts, decider.holder.get(), now, nonces=decider.nonces, limiter=Exceeded())
    runs = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(PER_ROUND):
            decisions.observe(decision, now)
        runs.append((time.perf_counter() - started) / PER_ROUND * 1e6)
    return statistics.median(runs)


def main() -> None:
    # One log line per deny would time the terminal, not the decision.
    logging.getLogger("gatekeeper.decisions").setLevel(logging.WARNING)
    snap = world()
    decider = runtime.get_runtime()
    decider.holder = SnapshotHolder(current_version=lambda: "bench", build=lambda _: snap)
    decider.holder.refresh()
    decider.limiter = Exceeded()
    cases = {
        "allow (API key)": (request(KEY), "authenticated"),
        "deny: rate limit exceeded": (request(FLOODER_KEY), "rate_limit_exceeded"),
        "deny: expired key": (request(EXPIRED_KEY), "invalid_credentials"),
    }
    rows = []
    started = time.monotonic()
    for name, (incoming, reason) in cases.items():
        answered = dict(route(incoming).headers)["X-Auth-Reason"]
        assert answered == reason, (name, answered)
        without, with_observer = [], []
        for number in range(ROUNDS):
            # Which goes first alternates, so neither gains from going second (warm caches).
            for observed in (False, True) if number % 2 else (True, False):
                if observed:
                    observers.register(decisions.observe)
                    with_observer.append(per_answer(incoming))
                else:
                    observers.unregister(decisions.observe)
                    without.append(per_answer(incoming))
        rows.append(
            (
                name,
                statistics.median(without),
                statistics.median(with_observer),
                observer_alone(incoming),
            )
        )
    elapsed = time.monotonic() - started
    handed_on = decisions.get_watcher().spool.pending
    denials = 2 * ROUNDS * PER_ROUND  # the observed ones of the two denial cases
    print(
        f"/authz answer, us (median of {ROUNDS} interleaved rounds of {PER_ROUND:,}, "
        "without and with the webhook observer)"
    )
    print(f"{'case':<28} {'without':>8} {'with':>8} {'change':>8} {'observer':>9}")
    for name, without, with_observer, alone in rows:
        change = (with_observer - without) / without * 100
        print(f"{name:<28} {without:>8.1f} {with_observer:>8.1f} {change:>+7.1f}% {alone:>9.2f}")
    print("(observer: the webhook observer's own time per decision, measured alone)")
    interval = settings.GATEKEEPER_WEBHOOK_SIGNAL_INTERVAL
    print(
        f"{denials:,} observed denials for one client in {elapsed:.1f} s "
        f"({denials / elapsed:,.0f} a second): {handed_on} event(s) handed on to the outbox "
        f"(at most one per {interval:g} s per event type); each endpoint then gets one per "
        "cooldown."
    )
    decisions.stop()
    shutil.rmtree(settings.GATEKEEPER_STATE_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
