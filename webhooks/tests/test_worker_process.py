"""The worker as a real process (`deploy/serve.sh webhooks`) against the test's database:
killed outright mid-delivery and started again, it loses nothing and sends again only what
was in flight; stopped gracefully, it finishes what is in flight; a change committed by a
process that dies right after is still delivered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from authz.tests.live import ROOT, gatekeeper_env
from clients import services as clients
from webhooks.models import Delivery, Event
from webhooks.tests.conftest import ACTOR, make_endpoint
from webhooks.tests.receiver import Reply, receiving
from webhooks.tests.worker_process import worker_running

pytestmark = [
    pytest.mark.needs("postgres"),
    pytest.mark.django_db(transaction=True),
]


def all_delivered(count: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() >= count:
            return True
        time.sleep(0.2)
    return False


def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_only_what_was_in_flight(
    loopback, tmp_path
):
    # The third webhook to arrive is held unanswered: the worker is in the middle of it.
    held = lambda request, n: Reply(hang=30.0) if n == 3 else Reply()  # noqa: E731
    with receiving(held) as receiver:
        make_endpoint(receiver, events=["client.created"])
        for number in range(6):
            clients.create_client(name=f"client-{number}", actor=ACTOR)

        with worker_running(tmp_path) as worker:
            in_flight = receiver.wait_for(3)[2].message_id
            worker.kill()
        with worker_running(tmp_path):
            # The killed attempt's lease runs out (2 x timeout + 5 s), then it goes again.
            assert all_delivered(6), "every delivery arrives after the restart"

        arrivals = Counter(request.message_id for request in receiver.requests)
    every = set(Event.objects.values_list("message_id", flat=True))
    assert set(arrivals) == every, "nothing lost"
    assert arrivals[in_flight] == 2, "the one in flight when the worker died went again"
    assert all(n == 1 for message, n in arrivals.items() if message != in_flight)


def test_a_stopped_worker_finishes_the_delivery_in_flight_first(loopback, tmp_path):
    slow = lambda request, n: Reply(hang=1.0)  # noqa: E731
    with receiving(slow) as receiver:
        make_endpoint(receiver, events=["client.created"])
        clients.create_client(name="acme", actor=ACTOR)
        with worker_running(tmp_path) as worker:
            receiver.wait_for(1)
            assert worker.terminate() == 0
            assert "Webhook worker stopped." in worker.log_tail()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DELIVERED, 1)
    assert len(receiver.requests) == 1


def test_a_change_whose_process_dies_right_after_the_commit_is_still_delivered(loopback, tmp_path):
    with receiving() as receiver:
        make_endpoint(receiver, events=["client.created"])
        script = (
            "import os, signal\n"
            "from clients.services import create_client\n"
            "from core.actor import Actor\n"
            "create_client(name='survivor', actor=Actor.system('tests'))\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        died = subprocess.run(  # noqa: S603 - our own fixed command line
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env=gatekeeper_env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert died.returncode == -signal.SIGKILL, died.stderr
        with worker_running(tmp_path):
            (request,) = receiver.wait_for(1)
    assert request.json()["data"]["client"]["name"] == "survivor"
    assert os.path.exists(tmp_path / "webhook-worker.log")
