"""gunicorn settings for Gatekeeper's admin server (`gunicorn --config deploy/gunicorn.conf.py
gatekeeper_project.wsgi`): the Django admin, its /metrics, and (later) the REST API. Decisions
are served by the decision server (`python -m authz.serve`), a process pool of its own, so
nothing here can starve them.

Metrics run in prometheus_client's multiprocess mode: every worker writes its values to files
in PROMETHEUS_MULTIPROC_DIR (default GATEKEEPER_STATE_DIR/metrics/admin, emptied at start) and
`/metrics` merges them. This directory must not be the decision server's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

bind = os.environ.get("GATEKEEPER_BIND", "127.0.0.1:7843")
workers = int(os.environ.get("GATEKEEPER_ADMIN_WORKERS", "2"))
threads = int(os.environ.get("GATEKEEPER_THREADS", "4"))
keepalive = 5
timeout = 30
graceful_timeout = 10
# The request line without its query string: a query may carry a key (?api_key=) or a search
# that names one. `%(U)s` is the path alone.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
# gunicorn's control socket lives in one place per user (~/.gunicorn/gunicorn.ctl), shared by
# every instance that user runs: one instance would delete another's. Nothing here uses it.
control_socket_disable = True

_state = Path(os.environ.get("GATEKEEPER_STATE_DIR") or Path(__file__).resolve().parents[1] / "var")
# Set before any worker starts (and imports prometheus_client, which reads it once).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_state / "metrics" / "admin"))
_metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server: Arbiter) -> None:
    _metrics_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink()


def child_exit(server: Arbiter, worker: Worker) -> None:
    # Drops the dead worker's live gauges; its counts stay.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_metrics_dir))
