"""Decision audit: a log line and a `DecisionRecord` per deny (and sampled allow), handed off
through the durable spool and written off the request path, losing nothing to an outage."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import DecisionRecord
from authz.build import build_snapshot
from authz.decision_log import DecisionLog
from authz.engine import Decision, RequestFacts, decide
from authz.nonces import DryNonces
from authz.tests.live import eventually

PEER = "127.0.0.1"
SOURCE = "203.0.113.9"
# The decision time of every row these tests write; rows other tests' writer threads may have
# committed carry their own.
WHEN = 1_000_000_000.0


def mine():
    return DecisionRecord.objects.filter(time=datetime.fromtimestamp(WHEN, tz=UTC))


@dataclass(frozen=True)
class Asked:
    decision: Decision
    facts: RequestFacts


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def asking(world) -> Callable[..., Asked]:
    """Decide requests with the engine against a snapshot of `world`, as /authz would."""
    snap = build_snapshot(None)
    nonces = DryNonces()

    def ask(method: str, target: str, host: str = "api.example.com", **creds: str) -> Asked:
        facts = RequestFacts(method=method, host=host, target=target, **creds)
        return Asked(decide(facts, snap, time.time(), nonces=nonces), facts)

    return ask


def denies(world) -> list[Asked]:
    """One request for each kind of deny the engine gives."""
    ask = asking(world)
    return [
        ask("GET", "/nowhere"),
        ask("PATCH", "/api/data/x", **bearer(world.acme_key)),
        ask("GET", "/api/data/x"),
        ask("GET", "/api/data/x", **bearer("gk_nothere0_" + "x" * 32)),
        ask("GET", f"/api/data/x?api_key={world.expired_key}"),
        ask("GET", "/api/data/x", **bearer(world.suspended_key)),
        ask("GET", "/api/data/x", **bearer(world.revoked_key)),
        ask("GET", "/api/data/y", **bearer(world.stranger_key)),
        ask("DELETE", "/api/data/x", **bearer(world.acme_key)),
        ask("GET", "/api/admin/z?page=2", **bearer(world.acme_key)),
        ask("GET", "/api/../admin/x"),
        ask("GET", "/api/data/x", host="bad host"),
    ]


def record(log: DecisionLog, asked: Asked, **kwargs) -> None:
    kwargs.setdefault("source_ip", SOURCE)
    log.record(asked.decision, asked.facts, shape="nginx", peer=PEER, now=WHEN, **kwargs)


@pytest.fixture
def make_log(tmp_path) -> Iterator[Callable[..., DecisionLog]]:
    """DecisionLogs on a spool of this test's own, writing only when flushed (inside the
    test's transaction) unless a test starts the writer; all are stopped afterwards."""
    made: list[DecisionLog] = []

    def make(**kwargs) -> DecisionLog:
        options = {
            "allow_sample": 0.0,
            "capacity": 1000,
            "spool_dir": tmp_path / "spool",
            "deny_rate": 10_000,
            **kwargs,
        }
        log = DecisionLog(**options)
        made.append(log)
        return log

    yield make
    for log in made:
        log.stop()


def test_a_burst_of_denies_is_written_one_row_per_decision(world, make_log):
    burst = denies(world) * 5
    log = make_log()
    for asked in burst:
        record(log, asked)
    assert mine().count() == 0, "record() never writes on the request path"
    assert log.depth() == len(burst)

    assert log.flush() == len(burst)
    written = list(mine().order_by("id"))
    assert len(written) == len(burst)
    for row, asked in zip(written, burst, strict=True):
        decision = asked.decision
        assert row.reason == decision.reason
        assert row.detail == (decision.detail or "")
        assert (str(row.client_id) if row.client_id else None) == (
            decision.client.id if decision.client else None
        )
        assert row.route_id == (decision.route.id if decision.route else None)
        assert row.method == asked.facts.method
        assert row.path == (decision.path or asked.facts.target.partition("?")[0])
        assert "?" not in row.path
        assert row.source_ip == SOURCE
        assert row.shape == "nginx"
    assert log.depth() == 0
    assert log.dropped == 0


def test_rows_name_the_client_and_route_as_they_were(world, make_log):
    log = make_log()
    record(log, asking(world)("GET", "/api/data/y?page=2", **bearer(world.stranger_key)))
    log.flush()
    row = mine().get()
    assert row.reason == "no_permission"
    assert row.client_name == "stranger"
    assert row.route_label == "*/api/data/*"
    assert row.host == "api.example.com"
    assert row.path == "/api/data/y"


def test_recording_never_queries_the_database(world, make_log, django_assert_num_queries):
    burst = denies(world)
    log = make_log(allow_sample=1.0)
    with django_assert_num_queries(0):
        for asked in burst:
            record(log, asked)


@pytest.mark.parametrize(("sample", "written"), [(0.0, 0), (1.0, 20)])
def test_allows_are_written_as_sampled(world, make_log, sample, written):
    ask = asking(world)
    allows = [ask("GET", "/api/data/x", **bearer(world.acme_key)) for _ in range(10)]
    allows += [ask("GET", "/api/public/x") for _ in range(10)]
    assert all(a.decision.allowed for a in allows)
    log = make_log(allow_sample=sample)
    for asked in allows:
        record(log, asked)
    record(log, ask("GET", "/nowhere"))
    assert log.flush() == written + 1
    assert mine().exclude(reason="no_route_match").count() == written


def test_a_fractional_sample_keeps_about_that_share_of_allows(world, make_log):
    allow = asking(world)("GET", "/api/public/x")
    log = make_log(allow_sample=0.25)
    for _ in range(400):
        record(log, allow)
    # Binomial(400, 0.25): mean 100, standard deviation under 9.
    assert 50 < log.flush() < 150


def test_a_full_spool_drops_rows_and_counts_them(world, make_log):
    deny = asking(world)("GET", "/nowhere")
    log = make_log(capacity=3)
    hooked: list[int] = []
    log.on_drop = hooked.append
    for _ in range(5):
        record(log, deny)
    assert log.depth() == 3
    assert log.dropped == 2
    assert sum(hooked) == 2
    assert log.flush() == 3
    # Room again once written.
    record(log, deny)
    assert log.dropped == 2
    assert log.depth() == 1


def test_flush_writes_in_batches(world, make_log, monkeypatch):
    from authz import audit_spool

    monkeypatch.setattr(audit_spool, "BATCH_ROWS", 4)
    deny = asking(world)("GET", "/nowhere")
    log = make_log()
    for _ in range(10):
        record(log, deny)
    with CaptureQueriesContext(connection) as queries:
        assert log.flush() == 10
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "audit_decisionrecord"')]
    assert len(inserts) == 3, "one INSERT per batch of at most 4 rows"
    assert mine().count() == 10


def test_a_stopped_log_leaves_its_rows_to_the_next_writer(world, make_log):
    deny = asking(world)("GET", "/nowhere")
    first = make_log()
    for _ in range(3):
        record(first, deny)
    first.stop()
    assert mine().count() == 0
    successor = make_log()
    assert successor.flush() == 3, "the successor adopts what the stopped log spooled"
    assert mine().count() == 3
    assert not list((successor.spool._dir).glob("*.jsonl"))


def test_a_flood_from_one_source_is_sampled_and_counted(world, make_log):
    deny = asking(world)("GET", "/nowhere")
    log = make_log(deny_rate=5)
    sampled: list[int] = []
    log.on_sample = sampled.append
    for _ in range(200):
        record(log, deny, source_ip="198.51.100.1")
    for _ in range(3):
        record(log, deny, source_ip="198.51.100.2")
    written = log.flush()
    # A burst of twice the rate, a few tokens more as the loop takes time.
    assert 10 <= written - 3 <= 12
    assert written + sum(sampled) == 203
    assert mine().filter(source_ip="198.51.100.2").count() == 3, "other sources unaffected"


def test_every_decision_is_counted_per_minute(world, make_log):
    ask = asking(world)
    log = make_log()
    counted: list[dict] = []
    log.on_counts = counted.append
    for _ in range(3):
        record(log, ask("GET", "/api/public/x"))
    record(log, ask("GET", "/nowhere"))
    log.flush()
    minute = datetime.fromtimestamp(int(WHEN // 60) * 60, tz=UTC)
    assert counted == [{(minute, "no_auth_required"): 3, (minute, "no_route_match"): 1}]
    log.flush()
    assert len(counted) == 1, "counts are handed over once"


def test_every_deny_is_one_log_line_without_secrets(world, make_log, caplog):
    caplog.set_level(logging.INFO, logger="gatekeeper.decisions")
    ask = asking(world)
    burst = denies(world)
    burst.append(
        ask(
            "GET",
            f"/api/admin/x?a=1&api_key={world.acme_key}",
            authorization=f"Bearer {world.stranger_key}",
        )
    )
    log = make_log()
    for asked in burst:
        record(log, asked)
    lines = [r for r in caplog.records if r.name == "gatekeeper.decisions"]
    assert len(lines) == len(burst)
    for line, asked in zip(lines, burst, strict=True):
        text = line.getMessage()
        assert line.levelno == logging.INFO
        assert text.startswith(f"deny reason={asked.decision.reason} ")
        for field in ("detail=", "client=", "route=", "method=", "host=", "path=", "via=nginx"):
            assert field in text
        assert f"source_ip={SOURCE}" in text
        assert f"peer={PEER}" in text
        assert line.decision["reason"] == asked.decision.reason
    last = lines[-1].getMessage()
    assert "path=/api/admin/x query=[redacted] " in last
    assert "query=- " in lines[0].getMessage()
    logged = caplog.text + "".join(str(r.__dict__) for r in lines)
    for secret in (world.acme_key, world.stranger_key, world.expired_key, world.suspended_key):
        assert secret not in logged
    assert "Bearer" not in logged


def test_sampled_allows_are_logged_too(world, make_log, caplog):
    caplog.set_level(logging.INFO, logger="gatekeeper.decisions")
    allow = asking(world)("GET", "/api/data/x", **bearer(world.acme_key))
    make_log(allow_sample=0.0).record(
        allow.decision, allow.facts, shape="forward", peer=PEER, now=WHEN
    )
    assert not caplog.records
    make_log(allow_sample=1.0).record(
        allow.decision, allow.facts, shape="forward", peer=PEER, now=WHEN
    )
    (line,) = caplog.records
    text = line.getMessage()
    assert text.startswith("allow reason=authenticated ")
    assert f"client={world.acme.id} client_name=acme" in text
    assert f"route={world.data.id}" in text
    assert "peer=" not in text, "without a forwarded address the peer is the source"


def test_request_supplied_text_cannot_forge_log_lines_or_lose_rows(world, make_log, caplog):
    caplog.set_level(logging.INFO, logger="gatekeeper.decisions")
    ask = asking(world)
    forged = [
        ask("GET", "/x\nFAKE deny reason=authenticated", host="h\x00st"),
        ask("GET\r\nX", "/api/data/x"),
        ask("GET", "/" + "a" * 5000),
    ]
    log = make_log()
    for asked in forged:
        record(log, asked, source_ip="not an address")
    assert log.flush() == len(forged)
    for line in caplog.records:
        assert "\n" not in line.getMessage()
        assert "\r" not in line.getMessage()
    assert all(len(row.path) <= 2000 and row.source_ip == PEER for row in mine())


def test_untrusted_or_unreadable_requests_are_recorded_from_the_peer(world, make_log):
    from authz.engine import malformed
    from authz.reasons import Detail

    log = make_log()
    log.record(malformed(Detail.UNTRUSTED_PEER), None, shape="ingress", peer="192.0.2.7", now=WHEN)
    log.flush()
    row = mine().get()
    assert (row.reason, row.detail) == ("malformed_request", "untrusted_peer")
    assert (row.source_ip, row.shape, row.path, row.method) == ("192.0.2.7", "ingress", "", "")
    assert row.time.timestamp() == WHEN


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_writes_without_being_asked(world, make_log):
    deny = asking(world)("GET", "/nowhere")
    log = make_log(interval=0.1)
    log.start()
    for _ in range(7):
        record(log, deny)
    # Polling the log, not the table: SQLite's shared cache refuses a write during a read.
    assert eventually(lambda: log.written == 7)
    assert mine().count() == 7
    assert log.depth() == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_database_keeps_rows_and_writes_them_when_it_is_back(world, make_log, caplog):
    """A real database error (the table is gone for a while), not a stand-in."""
    caplog.set_level(logging.INFO)
    deny = asking(world)("GET", "/nowhere")
    log = make_log(interval=0.05)
    log.start()
    table = DecisionRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        slowest = 0.0
        for _ in range(3):
            for _ in range(10):
                started = time.perf_counter()
                record(log, deny)
                slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.15)
        assert log.depth() == 30, "every row waits in the spool"
        assert slowest < 0.05
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    for _ in range(4):
        record(log, deny)
    assert eventually(lambda: log.written == 34)
    assert mine().count() == 34
    assert log.dropped == 0

    warnings = [r for r in caplog.records if r.name == "authz.decision_log"]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]
    assert "cannot be written (" in warnings[0].getMessage()
    assert warnings[0].exc_info is None
    assert "written again" in warnings[1].getMessage()
