"""`make run` in a fresh copy of the checkout, twice (issue 9, items 5 and 12).

- Item 5: `.env` (SECRET_KEY, the Fernet keys, the key pepper) and the SQLite database are
  readable by this user only (0600, `var/` 0700), whatever the umask, and a second run tightens
  files an older version left open.
- Item 12: the first run loads deploy/demo.yaml into the new database; the second run does not
  touch it, so what staff changed in between stays changed (a suspended client stays
  suspended, a revoked key is not replaced and no new key is printed, a revoked method stays
  revoked).

Each run is the real `make run` (migrate, demo, gunicorn), stopped once `/health` answers. The
copy shares this checkout's virtualenv (`make VENV=...`) instead of installing its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from authz.tests.tcp_proxy import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
COPY_IGNORES = shutil.ignore_patterns(
    ".venv", ".git", "var", ".env", "staticfiles", "__pycache__", ".pytest_cache", ".hypothesis",
    ".ruff_cache",
)  # fmt: skip
# What the surrounding test run sets and `make run` must not see: it runs with its own .env.
FOREIGN = ("DATABASE_", "REDIS_", "GATEKEEPER_", "DJANGO_", "PROMETHEUS_", "SECRET_KEY")
START_TIMEOUT = 180


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}


def make_run(checkout: Path, log: Path) -> str:
    """`make run` with the usual umask 022, until gunicorn answers; then stop it."""
    port = free_port()
    env = {
        **_env(),
        "GATEKEEPER_BIND": f"127.0.0.1:{port}",
        "GATEKEEPER_DECISION_BIND": f"127.0.0.1:{free_port()}",
    }
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603
            ["/bin/bash", "-c", f"umask 022 && exec make --no-print-directory VENV={VENV} run"],
            cwd=checkout,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(port):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    return log.read_text()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def manage(checkout: Path, *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [str(VENV / "bin" / "python"), "manage.py", *args],
        cwd=checkout,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two `make run`s of one copy, with staff changes and loosened file modes in between."""
    checkout = tmp_path_factory.mktemp("make-run") / "gatekeeper"
    shutil.copytree(ROOT, checkout, ignore=COPY_IGNORES)
    first = make_run(checkout, checkout.parent / "first.log")
    modes = {name: mode(checkout / name) for name in (".env", "var", "var/gatekeeper.sqlite3")}

    # Staff at work between the two starts.
    manage(checkout, "set_client_status", "partner-acme", "suspended")
    clients_before = json.loads(manage(checkout, "list_clients", "--json"))
    manage(checkout, "revoke_credential", "--prefix", _prefix(checkout, "dashboard"))
    manage(
        checkout, "revoke", "--client", "dashboard", "--pattern", "/api/data/*", "--methods", "HEAD"
    )
    # Files as an older `make run` left them.
    for name in (".env", "var/gatekeeper.sqlite3"):
        (checkout / name).chmod(0o644)
    (checkout / "var").chmod(0o755)

    second = make_run(checkout, checkout.parent / "second.log")
    return {
        "checkout": checkout,
        "first": first,
        "second": second,
        "modes": modes,
        "clients_before": clients_before,
    }


def _prefix(checkout: Path, client: str) -> str:
    output = manage(checkout, "shell", "-v", "0", "-c", _LIVE_KEY_PREFIX.format(client=client))
    return output.strip()


_LIVE_KEY_PREFIX = (
    "from clients.models import Credential; "
    "print(Credential.objects.live().get(client__name='{client}', kind='api_key').prefix)"
)


def test_secrets_and_the_database_are_readable_by_their_owner_only(runs):
    assert runs["modes"] == {".env": 0o600, "var": 0o700, "var/gatekeeper.sqlite3": 0o600}
    checkout = runs["checkout"]
    assert "GATEKEEPER_KEY_PEPPERS=" in (checkout / ".env").read_text()
    # The second run tightened what an older version had left open.
    for name, expected in (("var", 0o700), (".env", 0o600), ("var/gatekeeper.sqlite3", 0o600)):
        assert mode(checkout / name) == expected, name
    for extra in (checkout / "var").iterdir():
        assert mode(extra) & 0o077 == 0, extra


def test_the_demo_goes_into_a_new_database_only(runs):
    checkout = runs["checkout"]
    loaded = "Generated credentials" in runs["first"]
    assert loaded
    assert {c["name"] for c in runs["clients_before"]} == {
        "dashboard",
        "partner-acme",
        "ingest-worker",
    }

    second = runs["second"]
    # Booleans, so that a failure does not print the log (it holds the demo's keys).
    printed_keys = "Generated credentials" in second or "gk_" in second
    assert not printed_keys
    assert "deploy/demo.yaml was not applied" in second

    clients = {c["name"]: c for c in json.loads(manage(checkout, "list_clients", "--json"))}
    assert clients["partner-acme"]["status"] == "suspended"
    assert clients["dashboard"]["live_api_keys"] == 0
    permissions = json.loads(
        manage(checkout, "list_permissions", "--client", "dashboard", "--json")
    )
    data = next(p for p in permissions if p["pattern"] == "/api/data/*")
    assert data["methods"] == ["GET"]
