"""What the servers write about the requests they see: never a key, whichever proxy asked and
wherever the client put the key; and the client address from the proxy's own header only."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from audit.models import DecisionRecord
from authz.tests.e2e.client import request
from authz.tests.live import ROOT, gatekeeper_env, running, stop_process
from authz.tests.tcp_proxy import HOST, free_port

pytestmark = [
    pytest.mark.needs("caddy", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]


def leaked(text: str, secret: str) -> list[str]:
    forms = {secret, quote(secret, safe=""), secret[-32:]}
    return [form for form in forms if form in text]


def test_keys_in_queries_reach_no_log_through_caddy_or_the_envoy_shape(scene, tmp_path, backend):
    from authz.tests.e2e.proxies import caddy

    world = scene.world
    env = {"GATEKEEPER_DECISION_ACCESS_LOG": "true"}
    with running(tmp_path, env=env) as gatekeeper:
        with caddy(
            tmp_path / "caddy", gatekeeper_port=gatekeeper.port, backend_port=backend.port
        ) as proxy:
            for path in (
                f"/api/data/x?api_key={world.acme_key}",
                f"/api/data/x?API_KEY={world.stranger_key}",
                f"/api/admin/x?a=1&api_key={quote(world.acme_key)}",
            ):
                request(proxy.port, "GET", path)
        # Envoy sends the original path and query under its path_prefix.
        for key in (world.acme_key, world.stranger_key):
            gatekeeper.get(f"/authz/envoy/api/data/x?api_key={key}", {"Host": "api.example.com"})
        time.sleep(0.5)
        logged = gatekeeper.output.read_text(errors="replace")
    assert "GET /authz/forward" in logged, "the access log is on and saw the requests"
    for secret in (world.acme_key, world.stranger_key):
        assert leaked(logged, secret) == []


def test_the_admin_access_log_has_no_query_string(tmp_path, world):
    port = free_port()
    log = tmp_path / "admin.log"
    with log.open("wb") as output:
        proc = subprocess.Popen(  # noqa: S603 - our own command line
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"{HOST}:{port}",
                "gatekeeper_project.wsgi",
            ],
            cwd=ROOT,
            env={**gatekeeper_env(), "HOME": str(tmp_path), "GATEKEEPER_STATE_DIR": str(tmp_path)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                request(port, "GET", f"/admin/login/?next=/&api_key={world.acme_key}", host=HOST)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        time.sleep(0.3)
    finally:
        stop_process(proc)
    text = log.read_text(errors="replace")
    assert '"GET /admin/login/ HTTP/1.1" 200' in text
    assert leaked(text, world.acme_key) == []
    # No control socket shared with every other gunicorn of this user (issue 9, item 19).
    assert not (Path(tmp_path) / ".gunicorn").exists()


def test_the_audit_takes_the_client_address_from_the_proxys_own_header(
    scene, caddy_proxy, nginx_proxy
):
    world = scene.world
    spoof = {"X-Real-IP": "6.6.6.6", "X-Forwarded-For": "7.7.7.7"}
    for port, path in (
        (caddy_proxy.port, "/api/data/via-caddy"),
        (nginx_proxy.port, "/api/data/via-nginx"),
    ):
        reply = request(
            port,
            "GET",
            path,
            headers=[("Authorization", f"Bearer {world.stranger_key}"), *spoof.items()],
        )
        assert reply.status == 403
    deadline = time.monotonic() + 5
    rows = []
    while time.monotonic() < deadline and len(rows) < 2:
        rows = list(DecisionRecord.objects.filter(path__startswith="/api/data/via-"))
        time.sleep(0.1)
    assert {row.path: row.source_ip for row in rows} == {
        "/api/data/via-caddy": "127.0.0.1",
        "/api/data/via-nginx": "127.0.0.1",
    }
