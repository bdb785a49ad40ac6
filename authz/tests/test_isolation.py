"""The admin and the decision server are separate process pools: a flood of admin logins (each
one a password hash) cannot take the threads or the queue that decisions need (issue 11)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import uuid
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
from django.conf import settings

from authz.tests.live import ROOT, answered, gatekeeper_env, running, stop_process
from authz.tests.tcp_proxy import HOST, free_port

pytestmark = [
    pytest.mark.needs("postgres", "redis"),
    pytest.mark.django_db(transaction=True),
]

FLOODERS = 8
FLOOD_SECONDS = 4.0


def admin_server(tmp_path, port: int) -> subprocess.Popen:
    """The admin as production runs it (real settings: a real password hasher)."""
    env = {
        **gatekeeper_env(),
        "DJANGO_SETTINGS_MODULE": "gatekeeper_project.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "GATEKEEPER_SECRET_KEYS": ",".join(settings.GATEKEEPER_SECRET_KEYS),
        "GATEKEEPER_BIND": f"{HOST}:{port}",
        "GATEKEEPER_STATE_DIR": str(tmp_path / "admin-state"),
        "HOME": str(tmp_path),
    }
    log = (tmp_path / "admin.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "deploy/gunicorn.conf.py",
            "gatekeeper_project.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def login_attempt(base: str) -> int:
    """One wrong login through the real form (CSRF cookie and token included)."""
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"{base}/admin/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    data = urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": f"u{uuid.uuid4().hex[:8]}",
            "password": "wrong-" + uuid.uuid4().hex,
            "next": "/admin/",
        }
    ).encode()
    request = Request(  # noqa: S310 - the test's own loopback http URL
        f"{base}/admin/login/", data=data, headers={"Referer": base + "/"}
    )
    try:
        return opener.open(request, timeout=10).status
    except HTTPError as exc:
        return exc.code


def test_a_login_flood_on_the_admin_leaves_every_decision_answered(world, tmp_path):
    port = free_port()
    admin = admin_server(tmp_path, port)
    base = f"http://{HOST}:{port}"
    key = {"Authorization": f"Bearer {world.acme_key}"}
    stop = threading.Event()
    attempts: list[int] = []

    def flood() -> None:
        while not stop.is_set():
            try:
                attempts.append(login_attempt(base))
            except OSError:
                attempts.append(0)

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                login_attempt(base)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with running(tmp_path) as gatekeeper:
            warm = gatekeeper.sweep(
                lambda: gatekeeper.authz("GET", "/api/data/x", key), answered(200, "authenticated")
            )
            assert warm.always_right, warm.summary()
            flooders = [threading.Thread(target=flood) for _ in range(FLOODERS)]
            for thread in flooders:
                thread.start()
            answers = []
            ends = time.monotonic() + FLOOD_SECONDS
            while time.monotonic() < ends:
                answers.append(gatekeeper.authz("GET", "/api/data/x", key, timeout=3))
            stop.set()
            for thread in flooders:
                thread.join()
    finally:
        stop.set()
        stop_process(admin)
    print(f"\n{len(attempts)} login attempts, {len(answers)} decisions during the flood")
    assert len(attempts) > FLOODERS, "the admin was flooded"
    assert answers, "decisions were asked during the flood"
    assert {(a.status, a.reason) for a in answers} == {(200, "authenticated")}
