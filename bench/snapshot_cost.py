"""Snapshot cost at the dataset's size: how long a build takes, and what a decision worker's
memory does over many rebuilds (issue 11 item 3: at most 300 ms, at most 100 MB and stable).

- Build time, in this process: a cold build (nothing reused) and a rebuild after one client
  changed (what the refresher does on a config change), `--builds` of each.
- Worker RSS: `--port`/`--pid` name a running decision server with one worker (bench/run.py
  starts it on the dataset); this makes `--rebuilds` config changes, waits for the worker to
  swap in each new snapshot (/health's reload count) and reads the worker's VmRSS each time.

Prints one JSON object. `python -m bench.snapshot_cost --client client-9999 [--port P --pid N]`
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.settings")

import django

django.setup()

from authz.build import BuildCache, build_snapshot  # noqa: E402
from bench.cpu import rss_kib  # noqa: E402
from clients import services as clients  # noqa: E402
from clients.models import Client  # noqa: E402
from core import config_version  # noqa: E402
from core.actor import Actor  # noqa: E402

ACTOR = Actor.system("bench-snapshot")
RELOAD_TIMEOUT = 30.0
STATUSES = (Client.Status.SUSPENDED, Client.Status.ACTIVE)


class Changer:
    """Toggles one client's status: each call is one config change."""

    def __init__(self, name: str) -> None:
        self.client = Client.objects.get(name=name)
        self.changes = 0

    def __call__(self) -> None:
        self.client = clients.set_client_status(
            self.client, STATUSES[self.changes % 2], actor=ACTOR
        )
        self.changes += 1


def timed_ms(build: Callable[[], object]) -> float:
    started = time.perf_counter()
    build()
    return (time.perf_counter() - started) * 1000


def build_times(change: Changer, builds: int) -> dict[str, list[float]]:
    cold = [timed_ms(lambda: build_snapshot(config_version.current())) for _ in range(builds)]
    cache = BuildCache()
    build_snapshot(config_version.current(), cache)
    rebuild = []
    for _ in range(builds):
        change()
        rebuild.append(timed_ms(lambda: build_snapshot(config_version.current(), cache)))
    return {"cold_ms": cold, "rebuild_ms": rebuild}


def _reloads(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/health")
        return json.loads(conn.getresponse().read())["snapshot"]["reloads"]
    finally:
        conn.close()


def rss_over_rebuilds(change: Changer, port: int, pid: int, rebuilds: int) -> list[float]:
    """The worker's VmRSS (MB) before and after each of `rebuilds` config changes."""
    samples = [rss_kib(pid) / 1024]
    for n in range(rebuilds):
        before = _reloads(port)
        change()
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while _reloads(port) <= before:
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not rebuild after change {n + 1}")
            time.sleep(0.02)
        samples.append(rss_kib(pid) / 1024)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--client", required=True, help="the client whose status is toggled")
    parser.add_argument("--builds", type=int, default=5, help="0: no build timing")
    parser.add_argument("--port", type=int, help="a decision server with one worker")
    parser.add_argument("--pid", type=int, help="that worker's pid")
    parser.add_argument("--rebuilds", type=int, default=100)
    args = parser.parse_args()
    change = Changer(args.client)
    result: dict[str, object] = {}
    if args.builds:
        times = build_times(change, args.builds)
        result.update(times)
        result["cold_median_ms"] = statistics.median(times["cold_ms"])
        result["rebuild_median_ms"] = statistics.median(times["rebuild_ms"])
    if args.port and args.pid:
        result["rss_mb"] = rss_over_rebuilds(change, args.port, args.pid, args.rebuilds)
    if change.changes % 2:
        change()  # leave the client active
    print(json.dumps(result))


if __name__ == "__main__":
    main()
