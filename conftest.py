"""Suite-wide test rules.

`@pytest.mark.needs("postgres" | "redis" | "nginx" | "caddy" | "promtool" | "node" | "go" |
"chromium")` marks a test that needs a real part. Without the part it is skipped with a message
that says what is missing; under `GATEKEEPER_REQUIRE_ALL=1` (what `.ci/run` sets) it fails
instead, and so does any other skip, so CI cannot pass while quietly testing less.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REQUIRE_ALL = os.environ.get("GATEKEEPER_REQUIRE_ALL") == "1"
CHROMIUM = "/usr/bin/chromium"

pytest_plugins = ["core.tests.secret_scan"]


def missing_part(part: str) -> str | None:
    """Why `part` is not available here, or None when it is."""
    from django.conf import settings
    from django.db import connection

    if part == "postgres":
        if connection.vendor != "postgresql":
            return (
                "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatekeeper"
            )
        return None
    if part == "redis":
        if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
            return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0"
        return None
    if part in ("nginx", "caddy"):
        if shutil.which(part) is None:
            return f"needs {part}: apt-get install -y nginx-light libnginx-mod-http-js caddy"
        return None
    if part == "chromium":
        # Debian's Chromium, driven by Playwright; Playwright never downloads a browser here.
        if not os.path.exists(CHROMIUM):
            return f"needs Chromium at {CHROMIUM}: apt-get install -y chromium"
        return None
    if part == "promtool":
        if shutil.which("promtool") is None:
            return "needs promtool: apt-get install -y prometheus"
        return None
    # The client libraries' end-to-end programs (sdk/js, sdk/go).
    if part == "node":
        if shutil.which("node") is None:
            return "needs Node.js 18 or later: apt-get install -y nodejs"
        return None
    if part == "go":
        if shutil.which("go") is None:
            return "needs Go 1.19 or later: apt-get install -y golang-go"
        return None
    raise ValueError(f"unknown part {part!r}")


@pytest.fixture(autouse=True)
def _fresh_decision_runtime_after_each_test():
    """Stop this test's decision runtime and forget its spooled audit rows and webhook
    events, so nothing of one test is written into another's database."""
    yield
    from django.conf import settings

    from authz import runtime
    from webhooks import decisions

    runtime.reset()
    decisions.stop()
    for spool in (runtime.SPOOL_DIR, decisions.SPOOL_DIR):
        shutil.rmtree(Path(settings.GATEKEEPER_STATE_DIR) / spool, ignore_errors=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        for part in mark.args:
            reason = missing_part(part)
            if reason is None:
                continue
            if REQUIRE_ALL:
                pytest.fail(f"GATEKEEPER_REQUIRE_ALL=1 but this test {reason}")
            pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under GATEKEEPER_REQUIRE_ALL=1: {report.longrepr}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not REQUIRE_ALL:
        return
    missing = [p for p in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(p)]
    if missing:
        raise pytest.UsageError(f"GATEKEEPER_REQUIRE_ALL=1 needs {', '.join(missing)} to be set")
