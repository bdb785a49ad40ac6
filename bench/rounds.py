"""Running the HTTP rows: the request lists, a probe of each row, and one measured wrk run
with the decider's CPU read from /proc before and after it (and a load beside it, for the
rows that have one).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cpu, world, wrk
from bench.environment import DATASET_DB, Environment
from bench.flood import LoginFlood
from bench.lua import write_script
from bench.mix import zipf_mix
from bench.report import Measurement
from bench.rows import CHURN, FLOOD, Row
from bench.servers import Fleet, Running
from bench.world import Request

# Signed requests are used once each: a run gets this many times what the row managed before.
HMAC_HEADROOM = 2.0
HMAC_FIRST_RATE = 20_000.0
CHURN_STOP_TIMEOUT = 60.0
# The request list made afresh for every run: HMAC-signed, each request sent once.
SIGNED = "hmac"


@dataclass(frozen=True)
class Options:
    duration: int
    connections: int
    flood_threads: int
    dataset_size: int
    churn_every: float


class RequestFiles:
    """The request lists as files for bench/lua.py's script; signed ones are made per run."""

    def __init__(self, directory: Path, dataset_size: int) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.lists: dict[str, list[Request]] = {
            "key": [world.key_request()],
            "public": [world.public_request()],
            "limited": [world.limited_request()],
            "mix": world.mix_requests(
                zipf_mix(world.MIX_PATHS, world.MIX_KEYS, world.MIX_LENGTH, seed=world.MIX_SEED)
            ),
            "dataset": world.dataset_requests(dataset_size),
        }
        self.files = {name: self._write(name, r) for name, r in self.lists.items()}
        self.hmac_rate = HMAC_FIRST_RATE
        self._signed = 0

    def _write(self, name: str, requests: list[Request]) -> Path:
        path = self.directory / f"{name}.txt"
        path.write_text("".join(request.line() + "\n" for request in requests))
        return path

    def first(self, name: str) -> Request:
        if name == SIGNED:
            return next(self._sign(1))
        return self.lists[name][0]

    def file_for(self, row: Row, duration: int) -> Path:
        if row.requests != SIGNED:
            return self.files[row.requests]
        count = int(self.hmac_rate * duration * HMAC_HEADROOM) + 1000
        return self._write(SIGNED, list(self._sign(count)))

    def measured(self, row: Row, rate: float) -> None:
        if row.requests == SIGNED:
            self.hmac_rate = max(self.hmac_rate, rate)

    def _sign(self, count: int) -> Iterator[Request]:
        # Nonces unique across the whole run: each batch continues the count.
        self._signed += 1
        return world.signed_requests(count, run=f"{world.run_id()}-{self._signed}")


def probe(front: Running, request: Request) -> str | None:
    """None when one request through `front` is allowed, else what came back instead."""
    conn = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
    try:
        conn.request(request.method, request.path, headers=dict(request.headers))
        response = conn.getresponse()
        body = response.read()[:200].decode(errors="replace").strip()
    except (OSError, http.client.HTTPException) as exc:
        return f"no answer: {type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return None if response.status == 200 else f"{response.status} {body}"


@contextmanager
def _churn(env: Environment, options: Options) -> Iterator[dict[str, Any]]:
    extra: dict[str, Any] = {}
    command = [
        sys.executable,
        "-m",
        "bench.churn",
        "--client",
        f"client-{options.dataset_size - 1}",
        "--every",
        str(options.churn_every),
    ]
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        command,
        env={**os.environ, **env.django(env.database_url(DATASET_DB))},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("bench.churn did not start")
        yield extra
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=CHURN_STOP_TIMEOUT)
        for line in out.splitlines():
            if line.startswith("changes "):
                extra["config_changes"] = int(line.split()[1])


@contextmanager
def _flood(fleet: Fleet, options: Options) -> Iterator[dict[str, Any]]:
    extra: dict[str, Any] = {}
    with LoginFlood(fleet.servers["admin"].port, options.flood_threads) as flood:
        yield extra
    extra["flood_threads"] = options.flood_threads
    extra["flood_attempts"] = flood.attempts
    extra["flood_statuses"] = {str(k): v for k, v in flood.statuses.items()}


@contextmanager
def _nothing() -> Iterator[dict[str, Any]]:
    yield {}


class Runner:
    """Measures rows through `fleet`."""

    def __init__(self, fleet: Fleet, env: Environment, files: RequestFiles, options: Options):
        self.fleet = fleet
        self.env = env
        self.files = files
        self.options = options
        self.scripts = {
            counting: write_script(fleet.directory, statuses=counting) for counting in (False, True)
        }

    def probe(self, row: Row) -> str | None:
        return probe(self.fleet.fronts[row.front], self.files.first(row.requests))

    def measure(self, row: Row, duration: int | None = None) -> Measurement:
        duration = duration or self.options.duration
        front = self.fleet.fronts[row.front]
        decider = self.fleet.servers[row.decider] if row.decider else None
        requests = self.files.file_for(row, duration)
        if row.load == CHURN:
            load = _churn(self.env, self.options)
        elif row.load == FLOOD:
            load = _flood(self.fleet, self.options)
        else:
            load = _nothing()
        with load as extra:
            nginx_before = cpu.group_ticks(front.pgid)
            decider_before = cpu.group_ticks(decider.pgid) if decider else 0
            result = wrk.run(
                f"http://127.0.0.1:{front.port}/",
                self.scripts[row.statuses],
                [str(requests)],
                duration=duration,
                connections=self.options.connections,
            )
            decider_ticks = cpu.group_ticks(decider.pgid) - decider_before if decider else None
            nginx_ticks = cpu.group_ticks(front.pgid) - nginx_before
        self.files.measured(row, result.rate)
        return Measurement(
            row=row.key,
            rate=result.rate,
            p50_ms=result.p50_ms,
            p99_ms=result.p99_ms,
            requests=result.requests,
            cpu_us=(
                cpu.micros_per_request(decider_ticks, result.requests)
                if decider_ticks is not None
                else None
            ),
            nginx_us=cpu.micros_per_request(nginx_ticks, result.requests),
            non_2xx=result.non_2xx,
            socket_errors=result.socket_errors,
            # Lists that start again at their end are meant to; signed requests must not.
            repeated=result.repeated if row.requests == SIGNED else 0,
            statuses=dict(result.statuses),
            extra=extra,
        )
