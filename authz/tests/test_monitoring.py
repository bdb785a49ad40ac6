"""The Prometheus rules and the Grafana dashboard in deploy/: valid, tested, and about series
that `/metrics` really exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from core.tests.secret_scan import scan_text

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "gatekeeper.json"
# A metric name on its own: not part of a recording rule's `level:metric:operation` name.
SERIES = re.compile(r"(?<![\w:])gatekeeper_[a-z0-9_]+(?![\w:])")
# What Grafana puts in place of its variables, for checking the expressions with promtool.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$job": ".*"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
# The webhook worker's series are on the admin's /metrics, not the decision server's:
# webhooks/tests/test_worker_metrics.py checks the rules about them against that one.
WEBHOOK_SERIES = "gatekeeper_webhook_"


def promtool(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - promtool with our own files
        ["promtool", *map(str, args)],  # noqa: S607 - found on PATH like nginx and caddy
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", ())]


def exported(decider) -> set[str]:
    body = decider.get("/metrics").content.decode()
    scan_text(body, "a /metrics page")
    return {
        family.name + suffix
        for family in text_string_to_metric_families(body)
        if family.name.startswith("gatekeeper_")
        for suffix in SUFFIXES[family.type]
    }


@pytest.mark.needs("promtool")
def test_alert_rules_pass_promtool_check():
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.needs("promtool")
def test_alerts_fire_on_the_series_they_are_about_and_stay_quiet_otherwise():
    result = promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.needs("promtool")
def test_every_dashboard_query_is_valid_promql(tmp_path):
    rules = []
    for number, expr in enumerate(dashboard_expressions()):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        rules.append({"record": f"dashboard:query_{number}", "expr": expr})
    checked = tmp_path / "dashboard_rules.yml"
    checked.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", checked)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_and_dashboard_use_only_series_that_metrics_exports(world, ask, decider):
    ask("GET", "/api/public/x")  # a snapshot exists, so its age is exported
    available = exported(decider)
    texts = {
        RULES.name: RULES.read_text(),
        RULE_TESTS.name: RULE_TESTS.read_text(),
        DASHBOARD.name: "\n".join(dashboard_expressions()),
    }
    for name, text in texts.items():
        used = {series for series in SERIES.findall(text) if not series.startswith(WEBHOOK_SERIES)}
        assert used, f"{name} names no Gatekeeper series"
        assert used <= available, f"{name} uses series /metrics lacks: {used - available}"


def test_dashboard_has_the_panels_operators_asked_for():
    dashboard = json.loads(DASHBOARD.read_text())
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {
        "Request rate: allowed and denied",
        "Decisions by reason",
        "Decision time p50 / p95 / p99",
        "Top routes",
        "Top denied routes",
        "Top denied clients",
        "Snapshot age and reloads",
    } <= titles
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "Grafana needs unique panel ids"
