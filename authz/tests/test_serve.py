"""Starting the decision server: what it refuses, and what it says about its Redis."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from authz import redis_server
from authz.single_process import hold_embedded_lock
from authz.tests.live import ROOT, stop_process
from authz.tests.tcp_proxy import HOST, free_port


def serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "authz.serve", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "gatekeeper_project.test_settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_several_workers_without_redis_are_refused_naming_both_variables(tmp_path):
    result = serve(
        "--bind",
        f"{HOST}:{free_port()}",
        REDIS_URL="",
        WEB_CONCURRENCY="2",
        GATEKEEPER_STATE_DIR=str(tmp_path),
    )
    assert result.returncode == 2
    assert "WEB_CONCURRENCY=2" in result.stderr
    assert "REDIS_URL" in result.stderr
    assert "replay" in result.stderr


def test_a_second_decider_on_the_same_state_directory_is_refused(tmp_path):
    """Two servers without Redis would each keep their own nonces: the second one cannot
    take the state directory's lock (here taken by a process of the test's own)."""
    holder = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import sys, time; from authz.single_process import hold_embedded_lock;"
            "hold_embedded_lock(sys.argv[1], wait=0); print('held', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
            hold_embedded_lock(tmp_path, wait=0.2)
    finally:
        holder.kill()
        holder.wait()
    # The kernel let go of the lock with the process.
    hold_embedded_lock(tmp_path, wait=1)


@pytest.mark.parametrize(
    ("version", "refused"), [("4.0.14", True), ("5.0.0", False), ("7.0.15", False)]
)
def test_redis_older_than_the_commands_used_is_refused(version, refused):
    assert (redis_server.parse_version(version) < redis_server.MIN_VERSION) is refused


@pytest.mark.needs("redis")
def test_the_shared_redis_is_read_as_it_is(settings):
    facts = redis_server.inspect(redis_server.connect(settings.REDIS_URL))
    assert redis_server.parse_version(facts.version) >= redis_server.MIN_VERSION
    assert facts.policy == "noeviction"
    assert facts.warning is None


@contextmanager
def own_redis(tmp_path: Path, *args: str):
    """A redis-server of the test's own, on a free port (never the machine's shared one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", HOST, "--save", "", "--dir", str(tmp_path), *args],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = redis_server.connect(f"redis://{HOST}:{port}/0")
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield client
    finally:
        stop_process(proc)


@pytest.mark.needs("redis")
def test_a_redis_that_may_evict_nonces_is_warned_about(tmp_path):
    with own_redis(tmp_path, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru") as c:
        facts = redis_server.inspect(c)
    assert facts.policy == "allkeys-lru"
    assert "evict" in facts.warning
    assert "noeviction" in facts.warning


@pytest.mark.needs("redis")
def test_check_deploy_warns_about_a_redis_that_may_evict(tmp_path, settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with own_redis(tmp_path, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru") as c:
        settings.REDIS_URL = f"redis://{HOST}:{c.connection_pool.connection_kwargs['port']}/0"
        with pytest.raises(SystemCheckError, match=r"authz\.W002"):
            call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "caches")
