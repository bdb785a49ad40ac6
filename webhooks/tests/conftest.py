"""Webhook test fixtures: loopback allowed as a destination (what the real receivers listen
on), a receiver, endpoints made through the services, and a compressed retry schedule."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from authz.tests.conftest import ask, decider, world  # noqa: F401 - fixtures used here too
from core.actor import Actor
from webhooks import delivery, services
from webhooks.models import EventType
from webhooks.tests.receiver import Receiver, receiving

ACTOR = Actor.system("tests")
# Retries a second apart: the whole "day" of retries in a few seconds.
FAST_RETRIES = [1, 1]


@pytest.fixture
def loopback(settings):
    """127.0.0.0/8 allowed: only for tests, whose receivers listen there."""
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.GATEKEEPER_WEBHOOK_TIMEOUT = 2.0
    return settings


@pytest.fixture
def receiver(loopback) -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def make_endpoint(receiver: Receiver, *, name: str = "ops", events=None, **extra):
    """An endpoint for `receiver` (every event type unless `events`), with its secret."""
    created = services.create_endpoint(
        name=name,
        url=receiver.url(),
        events=events or EventType.subscribable(),
        actor=ACTOR,
        **extra,
    )
    return created.endpoint, created.plaintext


def hand_off() -> int:
    """What the decision server's hand-off thread does each half second, now."""
    from webhooks import decisions

    return decisions.get_watcher().flush()


def deliver_due(*, schedule=FAST_RETRIES, timeout: float = 2.0) -> int:
    """Send every delivery due now, in this thread (and this test's transaction), the way
    the worker does; returns the attempts made."""
    attempts = 0
    while claimed := delivery.claim(10):
        for item in claimed:
            delivery.deliver(item, timeout=timeout, schedule=schedule)
            attempts += 1
    return attempts


def deliver_until(done, *, timeout: float = 15.0, schedule=FAST_RETRIES) -> None:
    """Keep sending what is due (retries come due a second apart) until `done()` is true."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        deliver_due(schedule=schedule)
        time.sleep(0.1)
