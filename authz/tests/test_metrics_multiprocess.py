"""`/metrics` from the decision server with several workers: whichever worker answers the
scrape, the counters are the sums over all of them, and a worker that dies keeps its counts."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from authz.tests.live import Gatekeeper, running
from core.tests.secret_scan import scan_text

pytestmark = [
    pytest.mark.needs("postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

DECISIONS = 60


def samples(body: str, name: str) -> list:
    return [
        sample
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == name
    ]


def by_reason(body: str) -> Counter:
    counts: Counter = Counter()
    for sample in samples(body, "gatekeeper_decisions_total"):
        counts[sample.labels["reason"]] += int(sample.value)
    return counts


def scrapes_from_every_worker(gatekeeper: Gatekeeper) -> dict[int, str]:
    """One /metrics body per worker pid, each through a connection to that worker."""
    bodies: dict[int, str] = {}
    for connection in gatekeeper.pinned():
        with gatekeeper.through(connection):
            answer = gatekeeper.get("/metrics")
        assert answer.status == 200, answer.body[:200]
        scan_text(answer.body.decode(), "a /metrics page from the decision server")
        bodies[connection.pid] = answer.body.decode()
    return bodies


def test_counters_sum_over_workers_whichever_worker_is_scraped(world, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    key = {"Authorization": f"Bearer {world.acme_key}"}
    ask = [
        lambda g: g.authz("GET", "/api/data/x", key),
        lambda g: g.authz("GET", "/api/data/x"),
        lambda g: g.authz("GET", "/api/public/x"),
    ]
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with running(tmp_path, env=env) as gatekeeper:
        answers: list = []
        for connection in gatekeeper.pinned():
            with gatekeeper.through(connection):
                answers += [ask[i % 3](gatekeeper) for i in range(DECISIONS // 2)]
        deciders = {a.pid for a in answers}
        bodies = scrapes_from_every_worker(gatekeeper)
        files = sorted(p.name for p in metrics_dir.glob("*.db"))

        # A worker that dies keeps its counts; its live gauges go with it.
        victim = next(iter(bodies))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 15
        after_death: dict[int, str] = {}
        while time.monotonic() < deadline:
            try:
                after_death = scrapes_from_every_worker(gatekeeper)
            except (OSError, ConnectionError):
                continue  # the victim's connection broke; pin its successor next round
            if victim not in after_death and len(after_death) == gatekeeper.workers:
                break
            time.sleep(0.2)

    assert len(deciders) == 2, "both workers decided"
    expected = Counter(a.reason for a in answers)
    assert set(expected) == {"authenticated", "invalid_credentials", "no_auth_required"}
    assert len(bodies) == 2, "both workers answered a scrape"
    for pid, body in bodies.items():
        assert by_reason(body) == expected, f"scrape answered by {pid}"
        (count,) = samples(body, "gatekeeper_decision_seconds_count")
        assert count.value == len(answers)
        (age,) = samples(body, "gatekeeper_snapshot_age_seconds")
        assert 0 <= age.value < 60
        assert world.acme_key not in body
    assert any(name.startswith("counter_") for name in files), files

    assert victim not in after_death
    assert len(after_death) == 2, "the new worker answered a scrape"
    for body in after_death.values():
        # The scrapes themselves are not decisions; the dead worker's decisions still count.
        assert by_reason(body) == expected
        pids = {
            s.labels["pid"] for s in samples(body, "gatekeeper_snapshot_built_timestamp_seconds")
        }
        assert str(victim) not in pids
