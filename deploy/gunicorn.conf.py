"""gunicorn settings for Gatekeeper (`gunicorn --config deploy/gunicorn.conf.py ...`).

Without REDIS_URL the cache is local memory, which is per process: keep one worker then, and
use threads for concurrency. With Redis, scale workers with WEB_CONCURRENCY.

Metrics run in prometheus_client's multiprocess mode: every worker writes its values to files
in PROMETHEUS_MULTIPROC_DIR and `/metrics` merges them, so counters sum over all workers.
Given that variable, the directory is emptied at start (values left by an earlier run would be
counted again); without it, each run gets a fresh directory of its own, removed at exit.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

bind = os.environ.get("GATEKEEPER_BIND", "127.0.0.1:7843")
workers = int(os.environ.get("WEB_CONCURRENCY", "1" if not os.environ.get("REDIS_URL") else "2"))
threads = int(os.environ.get("GATEKEEPER_THREADS", "4"))
# Proxies call the decider for every request; keep connections open between them.
keepalive = 30
timeout = 30
graceful_timeout = 10
accesslog = "-"
errorlog = "-"

# Set before any worker starts (and imports prometheus_client, which reads it once).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gatekeeper-metrics-")
    # In the environment, so that a reload (HUP), which runs this file again, remembers it.
    os.environ["GATEKEEPER_OWN_METRICS_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
_metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server: Arbiter) -> None:
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink()


def child_exit(server: Arbiter, worker: Worker) -> None:
    # Drops the dead worker's live gauges (queue depth, snapshot state); its counts stay.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_metrics_dir))


def on_exit(server: Arbiter) -> None:
    if os.environ.get("GATEKEEPER_OWN_METRICS_DIR") == str(_metrics_dir):
        shutil.rmtree(_metrics_dir, ignore_errors=True)
