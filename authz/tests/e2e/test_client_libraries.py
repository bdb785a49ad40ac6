"""The client libraries (sdk/python, sdk/js, sdk/go) against the shipped nginx config and a
real Gatekeeper: each calls a protected route with an API key, signs a GET with a query and a
POST with a JSON body (through the njs body-signed location), and gets the backend's answer;
a tampered body and a replayed request are refused.

The Python library runs in this process (requests and httpx); the Node and Go programs
(sdk/js/e2e/call.js, sdk/go/internal/e2ecall) run as subprocesses, credentials in their
environment, and print one JSON line per step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import requests

from authz.tests.conftest import ACTOR
from core.tests.secret_scan import scan_text
from gatekeeper_client import GatekeeperHmacAuth, GatekeeperKeyAuth, sign
from permissions import services as permissions
from routes import services as routes

pytestmark = [
    pytest.mark.needs("nginx", "postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

SDK = Path(__file__).resolve().parents[3] / "sdk"
RUN_TIMEOUT = 120.0
KEY_TARGET = "/api/data/items?colour=blue&size=m%2Fl"
# A percent-encoded UTF-8 path and a query with reserved characters, signed as sent.
HMAC_TARGET = (
    "/api/reports/d%C3%A9tail?from=2026-01-01&q=caf%C3%A9%20au%20lait&path=/x/y&list=a,b;c"
)
JSON_TARGET = "/signed/data/orders?batch=1"
ORDER = {"order": 7, "items": [{"sku": "A-1", "qty": 2}], "note": "ünïcode"}
BACKEND_ANSWER = '{"backend":"ok"}\n'
REFUSED = '{"error":"invalid_credentials"}\n'


@pytest.fixture
def reports(world):
    """A route whose GET needs HMAC (the world's data routes take keys for GET); made before
    `scene`, whose wait for gunicorn then covers it too."""
    route = routes.create_route(
        domain="*", pattern="/api/reports/*", methods={"GET": "hmac"}, actor=ACTOR
    )
    permissions.grant(world.acme, route, ["GET"], actor=ACTOR)
    return route


def python_steps(base: str, key: str, client_id: str, secret: str) -> list[dict]:
    """The steps the Node and Go programs take, with requests and httpx."""
    steps = []

    def report(step: str, response: requests.Response | httpx.Response) -> None:
        steps.append({"step": step, "status": response.status_code, "body": response.text})

    auth = GatekeeperHmacAuth(client_id, secret)
    report("key-get", requests.get(base + KEY_TARGET, auth=GatekeeperKeyAuth(key), timeout=10))
    report("hmac-get-query", requests.get(base + HMAC_TARGET, auth=auth, timeout=10))
    report("hmac-post-json", httpx.post(base + JSON_TARGET, json=ORDER, auth=auth, timeout=10))

    target = "/signed/data/orders"
    tampered = sign(
        "POST", target, b'{"order": 7, "amount": 100}', client_id=client_id, secret=secret
    )
    report(
        "tampered-body",
        requests.post(
            base + target,
            data=b'{"order": 7, "amount": 900}',
            headers={"Authorization": tampered, "Content-Type": "application/json"},
            timeout=10,
        ),
    )
    once = {
        "Authorization": sign("POST", target, b'{"order": 8}', client_id=client_id, secret=secret)
    }
    for step in ("replay-first", "replay-again"):
        report(step, requests.post(base + target, data=b'{"order": 8}', headers=once, timeout=10))
    return steps


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a toolchain or program found on PATH (node, go, the built program)."""
    executable = shutil.which(command[0]) or command[0]
    return subprocess.run(  # noqa: S603 - our own fixed command lines
        [executable, *command[1:]],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def steps_of(command: list[str], cwd: Path, env: dict[str, str]) -> list[dict]:
    done = run(command, cwd, env)
    scan_text(done.stdout + done.stderr, f"output of {command[0]}")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def credentials(scene, nginx_proxy) -> dict[str, str]:
    world = scene.world
    return {
        "GK_BASE_URL": f"http://127.0.0.1:{nginx_proxy.port}",
        "GK_API_KEY": world.acme_key,
        "GK_CLIENT_ID": str(world.acme.id),
        "GK_SECRET": world.acme_secret,
    }


def check_steps(steps: list[dict], scene, backend) -> None:
    """What every library must see, and what the backend must have received."""
    answers = {step["step"]: (step["status"], step["body"]) for step in steps}
    assert answers == {
        "key-get": (200, BACKEND_ANSWER),
        "hmac-get-query": (200, BACKEND_ANSWER),
        "hmac-post-json": (200, BACKEND_ANSWER),
        "tampered-body": (401, REFUSED),
        "replay-first": (200, BACKEND_ANSWER),
        "replay-again": (401, REFUSED),
    }
    received = backend.received
    assert [r.target for r in received] == [
        KEY_TARGET,
        HMAC_TARGET,
        JSON_TARGET,
        "/signed/data/orders",
    ]
    assert {r.header("X-Auth-Client-ID") for r in received} == {str(scene.world.acme.id)}
    assert json.loads(received[2].body) == ORDER
    assert received[2].header("Content-Type") == "application/json"
    assert received[3].body == b'{"order": 8}'


def test_python_client(reports, scene, nginx_proxy, backend):
    env = credentials(scene, nginx_proxy)
    steps = python_steps(
        env["GK_BASE_URL"], env["GK_API_KEY"], env["GK_CLIENT_ID"], env["GK_SECRET"]
    )
    check_steps(steps, scene, backend)


@pytest.mark.needs("node")
def test_javascript_client(reports, scene, nginx_proxy, backend):
    steps = steps_of(["node", "e2e/call.js"], SDK / "js", credentials(scene, nginx_proxy))
    check_steps(steps, scene, backend)


@pytest.mark.needs("go")
def test_go_client(reports, scene, nginx_proxy, backend, tmp_path):
    # Only the standard library: nothing to download, and no module proxy to ask.
    go_env = {"GOPROXY": "off", "GOTOOLCHAIN": "local"}
    binary = tmp_path / "e2ecall"
    build = run(["go", "build", "-o", str(binary), "./internal/e2ecall"], SDK / "go", go_env)
    assert build.returncode == 0, build.stderr
    steps = steps_of([str(binary)], SDK / "go", credentials(scene, nginx_proxy))
    check_steps(steps, scene, backend)
