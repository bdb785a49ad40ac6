"""A saved change is enforced by every decision worker within a second (design §7), wherever
it was made: in this process, or by a command in another one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from authz.tests.conftest import ACTOR
from authz.tests.live import ROOT, Answer, answered, gatekeeper_env, running
from permissions import services as permissions


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.needs("postgres", "redis")
@pytest.mark.django_db(transaction=True)
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


def _suspension_by_a_command_is_enforced_within_a_second(tmp_path, env, workers):
    manage(
        "create_route",
        "--domain",
        "*",
        "--pattern",
        "/api/data/*",
        "--method",
        "GET:api_key",
        env=env,
    )
    created = manage("create_client", "--name", "acme", "--api-key", env=env)
    (key,) = re.findall(r"gk_[a-z0-9]{8}_[A-Za-z0-9]{32}", created)
    manage(
        "grant",
        "--client",
        "acme",
        "--domain",
        "*",
        "--pattern",
        "/api/data/*",
        "--methods",
        "GET",
        env=env,
    )
    bearer = {"Authorization": f"Bearer {key}"}
    with running(tmp_path, workers=workers, env=env) as gatekeeper:

        def ask() -> Answer:
            return gatekeeper.authz("GET", "/api/data/x", bearer)

        before = gatekeeper.sweep(ask, answered(200, "authenticated"))
        assert before.always_right, before.summary()
        manage("set_client_status", "acme", "suspended", env=env)
        committed = time.monotonic()
        suspended = gatekeeper.sweep(ask, answered(403, "client_suspended"), since=committed)
    print(f"\nsuspended by a command: {suspended.timing()}")
    assert suspended.settled_after is not None, suspended.summary()
    assert suspended.settled_after < 1.0


def test_a_command_in_another_process_is_enforced_within_a_second_on_sqlite(tmp_path):
    """The embedded default: SQLite, no Redis, one decision process, and a command run by hand."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gatekeeper_project.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gatekeeper.sqlite3'}",
        "REDIS_URL": "",
        "GATEKEEPER_STATE_DIR": str(tmp_path / "state"),
    }
    manage("migrate", "--no-input", env=env)
    _suspension_by_a_command_is_enforced_within_a_second(tmp_path, env, workers=1)


@pytest.mark.needs("postgres", "redis")
@pytest.mark.django_db(transaction=True)
def test_a_command_in_another_process_is_enforced_within_a_second_on_postgres(tmp_path):
    _suspension_by_a_command_is_enforced_within_a_second(tmp_path, gatekeeper_env(), workers=2)


@pytest.mark.needs("postgres", "redis")
@pytest.mark.django_db(transaction=True)
def test_a_change_made_while_redis_is_down_is_enforced_at_once(world, tmp_path):
    """The version lives in the database: Redis has no part in spreading a change."""
    from authz.tests.live import redis_address
    from authz.tests.tcp_proxy import TcpProxy

    key = {"Authorization": f"Bearer {world.acme_key}"}
    with (
        TcpProxy(redis_address()) as proxy,
        running(tmp_path, redis_port=proxy.port) as gatekeeper,
    ):

        def ask() -> Answer:
            return gatekeeper.authz("GET", "/api/data/x", key)

        assert gatekeeper.sweep(ask, answered(200, "authenticated")).always_right
        proxy.cut()
        started = time.monotonic()
        permissions.revoke(world.acme, world.data, actor=ACTOR)
        revoked = gatekeeper.sweep(ask, answered(403, "no_permission"), since=started)
    assert revoked.settled_after is not None, revoked.summary()
    assert revoked.settled_after < 1.0
