"""The worker's metrics reach the admin's /metrics (deploy/serve.sh puts them in a directory
the admin merges), and the alert rules about webhooks use only series it shows there."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from authz.tests.test_monitoring import RULE_TESTS, RULES, SERIES, SUFFIXES
from clients import services as clients
from core.tests.secret_scan import scan_text
from webhooks.models import Delivery
from webhooks.tests.conftest import ACTOR, make_endpoint
from webhooks.tests.receiver import always, receiving
from webhooks.tests.worker_process import worker_running

pytestmark = [
    pytest.mark.needs("postgres"),
    pytest.mark.django_db(transaction=True),
]


def admin_metrics(client, settings, directory: Path) -> dict[str, dict]:
    settings.PROMETHEUS_MULTIPROC_DIR = str(directory)
    body = client.get("/metrics").content.decode()
    scan_text(body, "the admin's /metrics")
    return {
        family.name + suffix: {
            tuple(sorted(sample.labels.items())): sample.value for sample in family.samples
        }
        for family in text_string_to_metric_families(body)
        if family.name.startswith("gatekeeper_webhook_")
        for suffix in SUFFIXES[family.type]
    }


def test_the_admin_shows_the_workers_deliveries_queue_and_heartbeat(
    loopback, tmp_path, client, settings
):
    with receiving(always(503)) as failing, receiving() as receiver:
        make_endpoint(receiver, events=["client.created"])
        make_endpoint(failing, name="failing", events=["client.created"])
        clients.create_client(name="acme", actor=ACTOR)
        # A retry an hour away: the failing delivery waits in the queue.
        with worker_running(tmp_path, {"GATEKEEPER_WEBHOOK_RETRY_SCHEDULE": "1h"}) as worker:
            receiver.wait_for(1)
            failing.wait_for(1)
            deadline = time.monotonic() + 20
            shown: dict[str, dict] = {}
            while time.monotonic() < deadline:
                shown = admin_metrics(client, settings, worker.metrics_dir)
                if shown.get("gatekeeper_webhook_queue_depth", {}).get(()) == 1.0:
                    break
                time.sleep(0.5)

    deliveries = shown["gatekeeper_webhook_deliveries_total"]
    assert deliveries[(("outcome", "delivered"),)] >= 1
    assert deliveries[(("outcome", "rejected"),)] >= 1
    assert shown["gatekeeper_webhook_queue_depth"][()] == 1, "the failing one waits to retry"
    assert shown["gatekeeper_webhook_oldest_pending_age_seconds"][()] >= 0
    assert shown["gatekeeper_webhook_overdue_seconds"][()] >= 0
    assert shown["gatekeeper_webhook_worker_heartbeat_timestamp_seconds"][()] > 0
    assert Delivery.objects.filter(status="pending").count() == 1

    rules = "\n".join(path.read_text() for path in (RULES, RULE_TESTS))
    used = {name for name in SERIES.findall(rules) if name.startswith("gatekeeper_webhook_")}
    assert used, "the alert rules watch the webhook worker"
    assert used <= set(shown), f"alerts use series the admin lacks: {used - set(shown)}"
    labels = {name for samples in shown.values() for key in samples for name, _ in key}
    assert labels <= {"outcome"}, "no endpoint, URL or client in a label"
