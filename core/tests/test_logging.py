"""JSON-lines logging: the formatter, the request id, and the LOG_FORMAT setting."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import RequestFactory

from core.logging import JsonFormatter, bind_request_id, unbind_request_id

ROOT = Path(__file__).resolve().parents[2]


def emit(*args: object, logger: str = "gatekeeper.test", **kwargs: object) -> dict:
    """Log one WARNING record through a JsonFormatter; return the parsed line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger(logger)
    log.addHandler(handler)
    try:
        log.warning(*args, **kwargs)
    finally:
        log.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    return json.loads(line)


def test_a_record_is_one_json_line_with_time_level_logger_and_message():
    entry = emit("deny reason=%s", "no_permission")
    assert list(entry) == ["time", "level", "logger", "message"]
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "gatekeeper.test"
    assert entry["message"] == "deny reason=no_permission"
    logged_at = datetime.fromisoformat(entry["time"])
    assert logged_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - logged_at) < timedelta(seconds=5)


def test_extra_fields_are_logged_as_values_and_objects_only_by_type():
    secret = "gk_abcdefgh_" + "S" * 32
    request = RequestFactory().get(f"/authz/envoy/api/x?api_key={secret}")
    entry = emit(
        "decision",
        extra={"reason": "no_permission", "route_id": 7, "methods": ["GET"], "request": request},
    )
    assert entry["reason"] == "no_permission"
    assert entry["route_id"] == 7
    assert entry["methods"] == ["GET"]
    assert entry["request"] == "<WSGIRequest>", "a request's repr carries its query string"
    assert secret not in json.dumps(entry)


def test_an_exception_is_logged_with_its_traceback():
    try:
        raise KeyError("missing")
    except KeyError:
        entry = emit("lookup failed", exc_info=True)
    assert entry["message"] == "lookup failed"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in entry["exception"]


def test_non_ascii_messages_stay_readable():
    assert emit("route %s", "/café")["message"] == "route /café"


def test_lines_logged_while_serving_a_request_carry_its_request_id(db, caplog):
    from authz.tests.decider import DeciderClient

    caplog.handler.setFormatter(JsonFormatter())
    with caplog.at_level(logging.INFO, logger="gatekeeper.decisions"):
        DeciderClient().get("/authz", REMOTE_ADDR="203.0.113.9", HTTP_X_REQUEST_ID="req-4f2a")
        logging.getLogger("gatekeeper.decisions").info("between requests")
    *during, after = (json.loads(line) for line in caplog.text.splitlines())
    assert any("untrusted peer" in entry["message"] for entry in during)
    assert {entry["request_id"] for entry in during} == {"req-4f2a"}
    assert "request_id" not in after


@pytest.mark.parametrize(
    "request_id",
    ["", "x" * 129, "a\nb", "tab\there"],
    ids=["empty", "too-long", "newline", "tab"],
)
def test_a_request_id_that_is_not_an_id_is_left_out(request_id):
    token = bind_request_id(request_id)
    try:
        entry = emit("hello")
    finally:
        unbind_request_id(token)
    assert "request_id" not in entry


def test_a_request_id_given_with_the_record_wins():
    token = bind_request_id("from-the-proxy")
    try:
        entry = emit("hello", extra={"request_id": "from-the-caller"})
    finally:
        unbind_request_id(token)
    assert entry["request_id"] == "from-the-caller"


def run_with(log_format: str | None) -> subprocess.CompletedProcess:
    """A fresh process with the real settings: what `LOG_FORMAT` makes of one warning."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gatekeeper_project.test_settings"}
    env.pop("LOG_FORMAT", None)
    if log_format is not None:
        env["LOG_FORMAT"] = log_format
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('gatekeeper.decisions').warning('deny reason=%s', 'no_permission')"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_logs_are_json_lines_on_stdout_by_default():
    result = run_with(None)
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout)
    assert entry["message"] == "deny reason=no_permission"
    assert entry["logger"] == "gatekeeper.decisions"


def test_log_format_plain_is_for_people():
    result = run_with("plain")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("WARNING gatekeeper.decisions deny reason=no_permission")
    assert not result.stdout.startswith("{")


def test_an_unknown_log_format_stops_the_start():
    result = run_with("xml")
    assert result.returncode != 0
    assert "LOG_FORMAT: expected json or plain, got 'xml'" in result.stderr
