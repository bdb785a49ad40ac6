"""A bounded soak through the shipped nginx config, with faults (issue 10's acceptance).

A fixed rate of API-key decisions, each with a path of its own and every one audited, runs
for about a minute while the test kills a decision worker, reloads the server, cuts the
database and cuts Redis (through TCP proxies of its own). Throughout, /health is asked four
times a second. At the end:

- no client saw an error;
- every decision is in the audit trail once, or counted as dropped (and none was dropped,
  since the spool had room throughout);
- /health said what was true at every moment, allowing it a moment to notice each change.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field

import pytest
from prometheus_client.parser import text_string_to_metric_families

from audit.models import DecisionRecord
from authz.tests.e2e.cases import bearer
from authz.tests.e2e.client import request
from authz.tests.e2e.proxies import nginx
from authz.tests.live import database_address, redis_address, running
from authz.tests.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.needs("nginx", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

RATE = 60  # requests a second
# When each fault starts and ends, in seconds from the start of the load.
KILL_AT, RELOAD_AT = 8, 16
DATABASE_CUT = (30, 38)
REDIS_CUT = (44, 52)
LOAD_SECONDS = 60
# How long /health may take to notice a change (it probes with a 0.5 s patience).
NOTICE = 2.0


@dataclass
class Timeline:
    start: float = field(default_factory=time.monotonic)
    # (since start, expected health status) from that moment on
    expected: list[tuple[float, str]] = field(default_factory=lambda: [(0.0, "ok")])

    def now(self) -> float:
        return time.monotonic() - self.start

    def expect(self, status: str) -> None:
        self.expected.append((self.now(), status))

    def expected_at(self, moment: float) -> set[str]:
        """What /health may say at `moment`: the expected status, or the one before it while
        the change is younger than NOTICE."""
        allowed = {"ok"}
        for index, (since, status) in enumerate(self.expected):
            if since <= moment:
                allowed = {status}
                if index and moment - since < NOTICE:
                    allowed.add(self.expected[index - 1][1])
        return allowed


def dropped_total(gatekeeper) -> float:
    body = gatekeeper.get("/metrics").body.decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == "gatekeeper_audit_dropped_total"
    )


def test_a_minute_of_faults_loses_no_row_and_no_request(scene, backend, tmp_path):
    key = bearer(scene.world.acme_key)
    env = {"GATEKEEPER_AUDIT_ALLOW_SAMPLE": "1"}
    with (
        TcpProxy(database_address()) as database,
        TcpProxy(redis_address()) as redis_link,
        running(
            tmp_path, env=env, database_port=database.port, redis_port=redis_link.port
        ) as gatekeeper,
        nginx(
            tmp_path / "nginx", gatekeeper_port=gatekeeper.port, backend_port=backend.port
        ) as proxy,
    ):
        timeline = Timeline()
        stop = threading.Event()
        sent: list[str] = []
        client_errors: list[str] = []
        health_wrong: list[str] = []

        def load() -> None:
            i = 0
            while not stop.is_set():
                due = timeline.start + i / RATE
                time.sleep(max(0.0, due - time.monotonic()))
                path = f"/api/data/soak-{i}"
                i += 1
                try:
                    reply = request(proxy.port, "GET", path, headers=key, timeout=5)
                except OSError as exc:
                    client_errors.append(f"{timeline.now():.1f}s {path}: {exc!r}")
                    continue
                if reply.status != 200:
                    client_errors.append(f"{timeline.now():.1f}s {path}: {reply.status}")
                else:
                    sent.append(path)

        def watch_health() -> None:
            while not stop.is_set():
                moment = timeline.now()
                try:
                    said = gatekeeper.health(timeout=2).json()["status"]
                except (OSError, ValueError) as exc:
                    said = f"no answer ({type(exc).__name__})"
                if said not in timeline.expected_at(moment):
                    health_wrong.append(
                        f"{moment:.1f}s: {said}, expected {timeline.expected_at(moment)}"
                    )
                time.sleep(0.25)

        threads = [threading.Thread(target=load), threading.Thread(target=watch_health)]
        for thread in threads:
            thread.start()

        def at(second: float) -> None:
            time.sleep(max(0.0, timeline.start + second - time.monotonic()))

        at(KILL_AT)
        victim = gatekeeper.pinned()[0].pid
        os.kill(victim, signal.SIGKILL)
        gatekeeper.unpin()
        at(RELOAD_AT)
        gatekeeper.signal(signal.SIGHUP)
        at(DATABASE_CUT[0])
        database.cut()
        timeline.expect("degraded")
        at(DATABASE_CUT[1])
        database.restore()
        timeline.expect("ok")
        at(REDIS_CUT[0])
        redis_link.cut()
        timeline.expect("degraded")
        at(REDIS_CUT[1])
        redis_link.restore()
        timeline.expect("ok")
        at(LOAD_SECONDS)
        stop.set()
        for thread in threads:
            thread.join()

        expected = set(sent)
        deadline = time.monotonic() + 30
        written: list[str] = []
        while time.monotonic() < deadline:
            written = list(
                DecisionRecord.objects.filter(path__startswith="/api/data/soak-").values_list(
                    "path", flat=True
                )
            )
            if set(written) >= expected:
                break
            time.sleep(0.5)
        dropped = dropped_total(gatekeeper)

    print(f"\nsoak: {len(sent)} decisions, {len(written)} rows, {dropped:.0f} dropped")
    assert client_errors == [], client_errors[:10]
    assert health_wrong == [], health_wrong[:10]
    assert len(sent) > RATE * LOAD_SECONDS * 0.8, "the load ran at about its rate"
    assert len(written) == len(set(written)), "no row twice"
    missing = expected - set(written)
    assert len(missing) == dropped, "rows expected = rows written + rows counted as dropped"
    assert dropped == 0, "the spool had room throughout: nothing may be dropped"
