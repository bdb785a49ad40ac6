"""Run the decision server: `python -m authz.serve [--bind HOST:PORT] [--workers N]`.

granian serves authz/asgi.py in `WEB_CONCURRENCY` worker processes (default 1 without Redis,
2 with it) on GATEKEEPER_DECISION_BIND, with no per-request access log (the proxy logs every
request; GATEKEEPER_DECISION_ACCESS_LOG adds one, path only, never the query). Why granian:
`make bench` measured it against gunicorn behind the same nginx (README, Performance).

- Without REDIS_URL, nonces and rate-limit counters live in one process: more than one worker
  is refused here (and a second server on the same state directory by authz/single_process).
- Workers start by spawning a fresh interpreter, build their snapshot before taking traffic
  (the ASGI lifespan startup), and are respawned if they die. SIGHUP starts new workers
  beside the old ones and stops the old ones only after the new ones serve; SIGTERM stops
  them gracefully (each drains its audit queue to the spool, authz/decision_log.py).
- Metrics: every worker writes to PROMETHEUS_MULTIPROC_DIR (default
  GATEKEEPER_STATE_DIR/metrics/decisions, emptied at start) and any worker's /metrics merges them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.settings")

from django.conf import settings
from granian import Granian
from granian.constants import Interfaces

TARGET = "authz.asgi:application"
# New workers serve this long beside the old ones on SIGHUP before the old ones stop.
RELOAD_OVERLAP = 5.0
# A worker that will not stop is killed after this long.
STOP_TIMEOUT = 10


class ServeError(Exception):
    """A configuration the decision server refuses to start with."""


def check(workers: int, redis_url: str) -> None:
    if workers > 1 and not redis_url:
        raise ServeError(
            f"WEB_CONCURRENCY={workers} without REDIS_URL: without Redis, HMAC nonces and "
            "rate-limit counters live in one process's memory, so several decision processes "
            "would each accept a replayed request and each allow the full rate limit. Set "
            "REDIS_URL, or WEB_CONCURRENCY=1."
        )


def prepare_metrics_dir(state_dir: Path) -> Path:
    """The multiprocess metrics directory of this run, created and emptied of old values."""
    directory = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or state_dir / "metrics" / "decisions"
    )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def server(bind: str, workers: int) -> Granian:
    host, _, port = bind.rpartition(":")
    return Granian(
        TARGET,
        address=host.strip("[]") or "127.0.0.1",
        port=int(port),
        interface=Interfaces.ASGI,
        workers=workers,
        websockets=False,
        respawn_failed_workers=True,
        respawn_interval=RELOAD_OVERLAP,
        workers_kill_timeout=STOP_TIMEOUT,
        log_access=settings.GATEKEEPER_DECISION_ACCESS_LOG,
        log_dictconfig=server_logging(),
    )


def server_logging() -> dict:
    """granian's own lines (workers starting, stopping, respawned; access lines when on) in
    the same format as Gatekeeper's (JSON lines unless LOG_FORMAT=plain)."""
    formatter = settings.LOGGING["formatters"][settings.LOG_FORMAT]
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "gk"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"gk": formatter},
        "handlers": {"gk": handler},
        "loggers": {
            "_granian": {"handlers": ["gk"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["gk"], "level": "INFO", "propagate": False},
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m authz.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--bind", default=settings.GATEKEEPER_DECISION_BIND, help="HOST:PORT")
    parser.add_argument(
        "--workers", type=int, default=settings.GATEKEEPER_DECISION_WORKERS, help="processes"
    )
    args = parser.parse_args(argv)
    try:
        check(args.workers, settings.REDIS_URL)
    except ServeError as exc:
        print(f"gatekeeper: {exc}", file=sys.stderr)
        return 2
    prepare_metrics_dir(settings.GATEKEEPER_STATE_DIR)
    # A fresh interpreter per worker: it reads the environment prepared above and inherits no
    # threads or connections from this process.
    multiprocessing.set_start_method("spawn", force=True)
    server(args.bind, args.workers).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
