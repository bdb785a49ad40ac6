"""The webhook worker's metrics, defined once. Only the worker (and commands that send)
import this module: the admin and the decision server never define these series.

`deploy/serve.sh webhooks` points the worker's PROMETHEUS_MULTIPROC_DIR at a `webhooks/`
directory inside the admin's, which the admin's `/metrics` merges (authz/metrics_view.py) and
gunicorn's start does not empty. The queue gauges are the database's answer at the worker's
last look (`mostrecent`: the newest value of any worker, alive or not), so a dead worker
leaves them frozen and its heartbeat old: the alert "GatekeeperWebhookWorkerDown" is about
exactly that. Labels: the outcome only (never an endpoint, a URL or a client).
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge

DELIVERIES = Counter(
    "gatekeeper_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, rejected (an error status), redirected "
    "(not followed), gone (410: endpoint disabled), timeout, unreachable, refused (address "
    "not allowed), unsigned (the endpoint's secret cannot be decrypted).",
    ["outcome"],
)
GIVEN_UP = Counter(
    "gatekeeper_webhook_given_up",
    "Deliveries that failed their last retry.",
)
DISABLED = Counter(
    "gatekeeper_webhook_endpoints_disabled",
    "Endpoints disabled by the worker (410, or failing for a whole retry period).",
)
QUEUE_DEPTH = Gauge(
    "gatekeeper_webhook_queue_depth",
    "Deliveries waiting to be sent to active endpoints (due now or retrying later).",
    multiprocess_mode="mostrecent",
)
OLDEST_AGE = Gauge(
    "gatekeeper_webhook_oldest_pending_age_seconds",
    "Age of the oldest delivery not yet delivered to an active endpoint (0 when none).",
    multiprocess_mode="mostrecent",
)
OVERDUE = Gauge(
    "gatekeeper_webhook_overdue_seconds",
    "How long the most overdue delivery has been due without being sent (0 when none): "
    "grows when the worker is stuck or cannot keep up, not when receivers fail.",
    multiprocess_mode="mostrecent",
)
HEARTBEAT = Gauge(
    "gatekeeper_webhook_worker_heartbeat_timestamp_seconds",
    "When a webhook worker last completed a cycle (Unix time).",
    multiprocess_mode="mostrecent",
)


def count_attempt(outcome: str) -> None:
    DELIVERIES.labels(outcome=outcome).inc()


def count_given_up() -> None:
    GIVEN_UP.inc()


def count_disabled() -> None:
    DISABLED.inc()


def report_queue(depth: int, oldest_age: float, overdue: float) -> None:
    QUEUE_DEPTH.set(depth)
    OLDEST_AGE.set(oldest_age)
    OVERDUE.set(overdue)
    HEARTBEAT.set(time.time())
