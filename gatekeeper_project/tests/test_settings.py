"""Settings come from the environment; a bad value stops the start and names the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

BASE_DIR = Path(__file__).resolve().parents[2]


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
    environ.update(DJANGO_SETTINGS_MODULE="gatekeeper_project.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "ture"),
        ("GATEKEEPER_HMAC_MAX_SKEW", "five minutes"),
        ("GATEKEEPER_HMAC_MAX_SKEW", "0"),
        ("GATEKEEPER_TRUSTED_PROXIES", "127.0.0.1,localhost"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("DATABASE_CONN_MAX_AGE", "-1"),
        ("GATEKEEPER_AUDIT_ALLOW_SAMPLE", "half"),
        ("GATEKEEPER_AUDIT_ALLOW_SAMPLE", "1.5"),
        ("GATEKEEPER_METRICS_ALLOWED", "everyone"),
        ("GATEKEEPER_RATE_LIMIT_FAIL_OPEN", "maybe"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(name, value):
    result = start_django(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_good_values_start():
    result = start_django(DEBUG="false", GATEKEEPER_TRUSTED_PROXIES="10.0.0.0/8, ::1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("debug", "hosts", "expect_error"),
    [
        (True, ["127.0.0.1", "localhost"], False),
        (True, ["gatekeeper.example.com"], True),
        (True, ["*"], True),
        (False, ["gatekeeper.example.com"], False),
    ],
)
def test_debug_is_refused_beyond_loopback(debug, hosts, expect_error):
    from django.core.management.base import SystemCheckError

    with override_settings(DEBUG=debug, ALLOWED_HOSTS=hosts):
        if expect_error:
            with pytest.raises(SystemCheckError, match=r"authz\.E001"):
                call_command("check", tags=["security"])
        else:
            call_command("check", tags=["security"])


def test_migrate_makes_a_missing_metrics_directory(tmp_path):
    """`PROMETHEUS_MULTIPROC_DIR` naming a directory that does not exist yet used to crash every
    command (issue 10, item 7)."""
    missing = tmp_path / "not" / "yet" / "there"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
    environ.update(
        DJANGO_SETTINGS_MODULE="gatekeeper_project.test_settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PROMETHEUS_MULTIPROC_DIR=str(missing),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert missing.is_dir()
    assert oct(missing.stat().st_mode & 0o777) == "0o700"


@pytest.mark.parametrize(
    ("name", "value"),
    [("GATEKEEPER_AUDIT_FLUSH_SECONDS", "soon"), ("GATEKEEPER_AUDIT_FLUSH_SECONDS", "0")],
)
def test_a_bad_decision_server_value_names_its_variable(name, value):
    result = start_django(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr
