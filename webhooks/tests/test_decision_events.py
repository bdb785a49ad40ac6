"""Decision-driven events: a flood of denials for one client becomes one event per endpoint
per cooldown, however many decision processes see it; thresholds count across processes;
what a process handed on outlives it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from authz.engine import Decision
from authz.ratelimit import Usage
from authz.reasons import Detail, Reason
from authz.snapshot import ClientEntry, RouteRule
from authz.tests.wire import bearer
from clients import services as clients
from webhooks.decisions import DecisionWatcher
from webhooks.models import Event, EventType
from webhooks.tests.conftest import ACTOR, deliver_due, hand_off, make_endpoint

pytestmark = pytest.mark.django_db

ROUTE = RouteRule(7, "*", "/api/data/*", "data", {"GET": "api_key"})
START = 1_800_000_000.0  # a simulated clock: the flood's own seconds


def client_entry() -> ClientEntry:
    return ClientEntry(str(uuid.uuid4()), "flooder", "active", {})


def limited(client: ClientEntry) -> Decision:
    return Decision(
        Reason.RATE_LIMIT_EXCEEDED, route=ROUTE, client=client, usage=Usage(100, -1, 30.0)
    )


def failed(client: ClientEntry) -> Decision:
    return Decision(
        Reason.INVALID_CREDENTIALS, Detail.INVALID_SIGNATURE, route=ROUTE, client=client
    )


def watcher(directory: Path, **overrides) -> DecisionWatcher:
    """A decision process's watcher (a test makes several to stand for several processes)."""
    return DecisionWatcher(
        directory, **{"interval": 10.0, "failures": 5, "window": 60, **overrides}
    )


def flood(process: DecisionWatcher, decision: Decision, *, seconds: int, rate: int) -> None:
    for tick in range(seconds * rate):
        process(decision, START + tick / rate)


def test_a_thousand_denials_a_second_make_one_event_per_cooldown(receiver, tmp_path):
    hourly, _ = make_endpoint(receiver, name="hourly", cooldown_seconds=3600)
    fast, _ = make_endpoint(receiver, name="fast", cooldown_seconds=15)
    client = client_entry()
    processes = [watcher(tmp_path), watcher(tmp_path)]

    for process in processes:  # each sees 1,000 denials a second for 30 seconds
        flood(process, limited(client), seconds=30, rate=1000)
    handed_on = sum(process.spool.pending for process in processes)
    for process in processes:
        process.flush()

    assert handed_on == 6, "each process hands on once per 10-second interval"
    events = Event.objects.filter(type=EventType.RATE_LIMIT_EXCEEDED)
    assert events.filter(deliveries__endpoint=hourly).count() == 1
    # 15 seconds of cooldown over 30 seconds handed on at 0, 10 and 20: sent at 0 and 20.
    assert events.filter(deliveries__endpoint=fast).count() == 2
    deliver_due()
    assert len(receiver.requests) == 3


def test_allowed_and_anonymous_decisions_hand_nothing_on(tmp_path):
    process = watcher(tmp_path)
    client = client_entry()
    for tick in range(1000):
        process(Decision(Reason.AUTHENTICATED, route=ROUTE, client=client), START + tick)
        process(Decision(Reason.INVALID_CREDENTIALS, Detail.UNKNOWN_CREDENTIAL), START + tick)
        process(Decision(Reason.NO_ROUTE_MATCH), START + tick)
    assert process.spool.pending == 0
    assert process.flush() == 0


@pytest.mark.needs("redis")
def test_failures_are_counted_across_processes_and_the_threshold_fires_once(receiver, tmp_path):
    make_endpoint(receiver, events=["auth_failures.threshold"])
    client, quiet = client_entry(), client_entry()
    one, two = watcher(tmp_path), watcher(tmp_path)
    for tick in range(3):
        one(failed(client), START + tick)
        two(failed(client), START + tick)
    for tick in range(4):  # under the threshold of 5
        (one if tick % 2 else two)(failed(quiet), START + tick)
    one.flush()
    two.flush()
    for tick in range(3, 20):  # more failures in the same window: no second event
        one(failed(client), START + tick)
    one.flush()

    (event,) = Event.objects.filter(type=EventType.AUTH_FAILURES_THRESHOLD)
    assert event.client_id == uuid.UUID(client.id)
    assert event.data["threshold"] == 5
    assert event.data["window_seconds"] == 60


def test_events_a_dead_process_handed_on_are_sent_by_another(receiver, tmp_path):
    """The hand-off is a file: a process that dies before its thread copied it into the
    outbox leaves it for the next one (as the decision audit does)."""
    make_endpoint(receiver, events=["rate_limit.exceeded"])
    doomed, heir = watcher(tmp_path), watcher(tmp_path)
    doomed(limited(client_entry()), START)
    assert doomed.spool.pending == 1
    doomed.spool.close()  # the kernel releases a dead process's lock the same way

    heir.flush()
    heir.flush()

    assert Event.objects.filter(type=EventType.RATE_LIMIT_EXCEEDED).count() == 1
    deliver_due()
    assert len(receiver.requests) == 1


def test_a_revoked_credential_in_use_is_an_event_naming_it(world, ask, receiver):
    make_endpoint(receiver, events=["credential.expired_used"])
    issued = clients.issue_api_key(world.acme, actor=ACTOR, label="old laptop")
    clients.revoke_credential(issued.credential, actor=ACTOR)

    assert ask("GET", "/api/data/x", **bearer(issued.plaintext)).status_code == 401
    hand_off()
    deliver_due()

    (request,) = receiver.wait_for(1)
    data = request.json()["data"]
    assert data["detail"] == "revoked_credential"
    assert data["client"] == {"id": str(world.acme.pk), "name": "acme"}
    assert data["credential"]["label"] == "old laptop"
    assert data["credential"]["revoked_at"] is not None
    assert data["route"]["pattern"] == "/api/data/*"
