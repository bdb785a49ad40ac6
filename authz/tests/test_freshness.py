"""A saved change is enforced by every gunicorn worker within a second (design §7)."""

from __future__ import annotations

import time

import pytest

from authz.tests.conftest import ACTOR
from authz.tests.live import Answer, answered, running
from permissions import services as permissions

pytestmark = [
    pytest.mark.needs("postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]


def test_revoke_and_grant_reach_every_worker_within_a_second(world, tmp_path):
    key = {"Authorization": f"Bearer {world.acme_key}"}
    with running(tmp_path) as gatekeeper:

        def ask() -> Answer:
            return gatekeeper.authz("GET", "/api/data/x", key)

        before = gatekeeper.sweep(ask, answered(200, "authenticated"))
        assert before.always_right, before.summary()

        started = time.monotonic()
        permissions.revoke(world.acme, world.data, actor=ACTOR)
        revoked = gatekeeper.sweep(ask, answered(403, "no_permission"), since=started)

        started = time.monotonic()
        permissions.grant(world.acme, world.data, ["GET"], actor=ACTOR)
        granted = gatekeeper.sweep(ask, answered(200, "authenticated"), since=started)

    for name, sweep in (("revoke", revoked), ("grant", granted)):
        print(f"\n{name}: {sweep.timing()}; {sweep.summary()}")
        assert sweep.settled_after is not None, f"{name} did not reach every worker"
        assert sweep.settled_after < 1.0
        assert len(sweep.workers()) == 2
