"""The webhook worker as production runs it (`deploy/serve.sh webhooks`), in a process of its
own against the test's database, for tests that stop or kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from authz.tests.live import ROOT, gatekeeper_env, stop_process

# Loopback allowed (the tests' receivers), one delivery at a time (so "in flight" is one),
# retries a second apart, and a quick look for new work.
WORKER_ENV = {
    "GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "GATEKEEPER_WEBHOOK_CONCURRENCY": "1",
    "GATEKEEPER_WEBHOOK_POLL_SECONDS": "0.2",
    "GATEKEEPER_WEBHOOK_RETRY_SCHEDULE": "1s,1s",
    "GATEKEEPER_WEBHOOK_TIMEOUT": "2",
}
START_TIMEOUT = 30.0


class WorkerProcess:
    def __init__(self, log_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.state_dir = log_dir / "state"
        self.env = {
            **gatekeeper_env(),
            **WORKER_ENV,
            "GATEKEEPER_STATE_DIR": str(self.state_dir),
            "PYTHON": sys.executable,
            "LOG_FORMAT": "plain",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.output = log_dir / "webhook-worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def metrics_dir(self) -> Path:
        """Where the admin's /metrics finds the worker's values (deploy/serve.sh)."""
        return self.state_dir / "metrics" / "admin"

    def start(self) -> None:
        with self.output.open("ab") as output:
            self.proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
                [str(ROOT / "deploy" / "serve.sh"), "webhooks"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while b"Delivering webhooks" not in self.output.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the webhook worker did not start:\n{self.log_tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no cleanup (serve.sh exec'd python: the pid is the worker)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_process(proc)

    def log_tail(self, lines: int = 40) -> str:
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def worker_running(log_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(log_dir, env)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
