"""`make bench`: what a decision costs, as ratios measured in one run (issue 11 item 6).

Sections (`--sections`, default engine,http,snapshot,config,webhooks; `--admin` adds admin):
- engine: the decision engine alone, microseconds per decision (bench/engine.py);
- http: every row of bench/rows.py through one nginx worker with wrk, interleaved
  (A B C ... A B C ...) for `--rounds` rounds after a warm-up; medians, ratios against row C
  (a bare Django view) and row A (nginx alone), CPU per request of the decider's processes;
- snapshot: build time at the 10,000-route dataset and a decision worker's RSS over
  `--rebuilds` rebuilds (bench/snapshot_cost.py);
- config: apply_config of a new and an unchanged 10,002-route file (bench/config_apply.py);
- admin: the admin pages at 10 million decision records (bench/admin_pages.py, minutes);
- webhooks: /authz with and without the webhook observer (bench/webhooks.py).
Then the targets of issue 11 with the measured values, and everything as JSON under
bench/results/ (git-ignored). Needs wrk, nginx and njs (`apt-get install -y wrk nginx-light
libnginx-mod-http-js`), DATABASE_URL (PostgreSQL) and REDIS_URL; rows whose parts are
missing are skipped with a message.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import deciders, faults
from bench.environment import DATASET_DB, INSTALL, SCENE_DB, Environment, load_average, machine
from bench.environment import missing_tools as missing_tools_
from bench.report import (
    Round,
    load_notes,
    rows_table,
    snapshot_lines,
    summarize,
    targets,
    targets_table,
)
from bench.rounds import Options, RequestFiles, Runner
from bench.rows import FLOOD, FRONTS, LABELS, ROWS, Row
from bench.servers import Fleet

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SECTIONS = ("engine", "http", "snapshot", "config", "admin", "webhooks")
DEFAULT_SECTIONS = "engine,http,snapshot,config,webhooks"
QUIET_LOAD = 0.5
DECISION_SERVERS = {"decisions", "sqlite", "tenk"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (README: 5)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds per row, unrecorded (0: none)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rows", help="only these rows (comma-separated keys, e.g. A,C,key)")
    parser.add_argument("--sections", default=DEFAULT_SECTIONS, help=", ".join(SECTIONS))
    parser.add_argument("--admin", action="store_true", help="add the admin pages (slow)")
    parser.add_argument("--size", type=int, default=10_000, help="routes and clients (10k rows)")
    parser.add_argument("--flood-threads", type=int, default=4, help="failed-login loops")
    parser.add_argument("--churn-every", type=float, default=1.0, help="seconds per change")
    parser.add_argument("--builds", type=int, default=5, help="snapshot builds timed")
    parser.add_argument("--rebuilds", type=int, default=100, help="rebuilds for worker RSS")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs)")
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if args.admin:
        args.sections.append("admin")
    unknown = set(args.sections) - set(SECTIONS)
    if args.duration < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("wrk runs whole seconds: --duration >= 1, --warmup >= 0, --rounds >= 1")
    if args.flood_threads < 1 or args.size < 2 or args.rebuilds < 1 or args.builds < 1:
        parser.error("--flood-threads, --rebuilds and --builds >= 1, --size >= 2")
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    known = {row.key for row in ROWS}
    wanted = {k.strip() for k in args.rows.split(",")} if args.rows else known
    if wanted - known:
        parser.error(f"unknown rows: {', '.join(sorted(wanted - known))}")
    args.selected = [row for row in ROWS if row.key in wanted]
    return args


def run_module(module: str, args: list[str], env: dict[str, str], *, show: bool = True) -> str:
    """`python -m module args` with `env` added; its output (printed when `show`)."""
    done = subprocess.run(  # noqa: S603 - our own fixed command line
        [sys.executable, "-m", module, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if show and done.stdout:
        print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        raise RuntimeError(f"python -m {module} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def prepare(env: Environment, args: argparse.Namespace, rows: list[Row], missing: dict) -> None:
    """The small configuration and the dataset, written afresh where the run needs them."""
    used = {row.decider for row in rows} | {"admin" for row in rows if row.load == FLOOD}
    print("writing the benchmark configuration ...", flush=True)
    if "sqlite" in used:
        run_module("bench.scene", [], env.django(env.sqlite_url), show=False)
    if "postgres" in missing:
        return
    if used & {"decisions", "seed", "admin"}:
        env.ensure_database(SCENE_DB)
        run_module("bench.scene", [], env.django(env.database_url(SCENE_DB)), show=False)
    if "tenk" in used or "snapshot" in args.sections:
        env.ensure_database(DATASET_DB)
        tenk = env.django(env.database_url(DATASET_DB))
        run_module("bench.dataset", ["--size", str(args.size)], tenk, show=False)


def runnable(rows: list[Row], missing: dict[str, str]) -> tuple[list[Row], dict[str, str]]:
    """The rows whose parts are all here, and why each other row is skipped."""
    tools = missing_tools_()
    if tools:
        reason = f"{', '.join(tools)} missing: {INSTALL}"
        return [], {row.key: reason for row in rows}
    skipped = {
        row.key: "; ".join(missing[part] for part in sorted(row.needs) if part in missing)
        for row in rows
        if row.needs & missing.keys()
    }
    return [row for row in rows if row.key not in skipped], skipped


def http_section(
    env: Environment, directory: Path, args: argparse.Namespace, rows: list[Row]
) -> tuple[list[Round], dict[str, str], dict[str, dict[str, float]]]:
    """The rounds, the rows skipped after a probe, and faults the decision servers counted
    (bench/faults.py)."""
    skipped: dict[str, str] = {}
    fleet = Fleet(directory / "http")
    try:
        servers = {row.decider for row in rows if row.decider}
        if any(row.load == FLOOD for row in rows):
            servers.add("admin")
        for name in sorted(servers):
            deciders.start(fleet, name, env)
        for name in dict.fromkeys(row.front for row in rows):
            front = FRONTS[name]
            fleet.front(name, front.upstream, auth=front.auth, cache=front.cache)
        options = Options(
            duration=args.duration,
            connections=args.connections,
            flood_threads=args.flood_threads,
            dataset_size=args.size,
            churn_every=args.churn_every,
        )
        runner = Runner(fleet, env, RequestFiles(directory / "requests", args.size), options)
        for row in rows:
            problem = runner.probe(row)
            if problem:
                skipped[row.key] = f"a probe request was not allowed: {problem}"
        rows = [row for row in rows if row.key not in skipped]
        if args.warmup:
            print(f"warming up ({args.warmup:g} s per row) ...", flush=True)
            for row in rows:
                runner.measure(row, args.warmup)
        rounds: list[Round] = []
        for number in range(1, args.rounds + 1):
            measured = {}
            for row in rows:
                m = measured[row.key] = runner.measure(row)
                cpu = "-" if m.cpu_us is None else f"{m.cpu_us:.0f}"
                print(
                    f"round {number}/{args.rounds}  {row.key:<10} {m.rate:>9,.0f} req/s  "
                    f"p99 {m.p99_ms:7.2f} ms  cpu {cpu:>5} us/req",
                    flush=True,
                )
            rounds.append(measured)
        started = DECISION_SERVERS & fleet.servers.keys()
        counted = {name: faults.read(fleet.servers[name].port) for name in started}
        return rounds, skipped, {name: found for name, found in counted.items() if found}
    finally:
        fleet.close()


def snapshot_section(env: Environment, directory: Path, args: argparse.Namespace) -> dict:
    tenk = env.django(env.database_url(DATASET_DB))
    client = f"client-{args.size - 1}"
    print(f"timing snapshot builds at {args.size:,} routes and clients ...", flush=True)
    builds = run_module(
        "bench.snapshot_cost", ["--client", client, "--builds", str(args.builds)], tenk, show=False
    )
    result = json.loads(builds.splitlines()[-1])
    fleet = Fleet(directory / "snapshot")
    try:
        argv = deciders.decision_server(1)
        server = fleet.python("tenk-rss", argv, tenk, ready="/health", ready_statuses=deciders.OK)
        pid = _worker_pid(server.port)
        print(f"worker RSS over {args.rebuilds} rebuilds ...", flush=True)
        watch = ["--port", str(server.port), "--pid", str(pid), "--rebuilds", str(args.rebuilds)]
        rss = run_module(
            "bench.snapshot_cost", ["--client", client, "--builds", "0", *watch], tenk, show=False
        )
        result.update(json.loads(rss.splitlines()[-1]))
    finally:
        fleet.close()
    return result


def _worker_pid(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/health")
        return int(json.loads(conn.getresponse().read())["worker"])
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    output: dict[str, Any] = {"started": started, "machine": machine(), "options": {}}
    output["options"] = {k: v for k, v in vars(args).items() if k != "selected"}
    load = load_average()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f}", flush=True)
    if load >= QUIET_LOAD:
        print(f"the machine is busy (load >= {QUIET_LOAD}): expect noisy absolute numbers")
    directory = Path(tempfile.mkdtemp(prefix="gk-bench-"))
    env = Environment.from_os(directory)
    rounds: list[Round] = []
    snapshot = None
    keep = args.keep
    try:
        if "engine" in args.sections:
            output["engine"] = run_module("bench.engine", [], {})
        missing = env.missing_parts()
        for part, reason in missing.items():
            print(f"no {part}: {reason}")
        rows, skipped = runnable(args.selected, missing)
        if "http" not in args.sections:
            rows = []
        if rows or "snapshot" in args.sections:
            prepare(env, args, rows, missing)
        if "http" in args.sections:
            rounds = report_http(env, directory, args, rows, skipped, output)
        if "snapshot" in args.sections:
            if {"postgres", "redis"} & missing.keys():
                print("skipped the snapshot section: it needs PostgreSQL and Redis")
            else:
                snapshot = output["snapshot"] = snapshot_section(env, directory, args)
                print(snapshot_lines(snapshot))
        if "config" in args.sections:
            if env.postgres:
                output["config"] = run_module("bench.config_apply", [], {})
            else:
                print("skipped the config section: it needs PostgreSQL")
        if "admin" in args.sections:
            admin_db = {"DATABASE_URL": env.database_url("gk_bench")} if env.postgres else {}
            output["admin"] = run_module("bench.admin_pages", [], admin_db)
        if "webhooks" in args.sections:
            output["webhooks"] = webhooks_section(env)
        found = targets(rounds, snapshot)
        output["targets"] = [{**dataclasses.asdict(t), "met": t.met} for t in found]
        print()
        print(targets_table(found))
    except BaseException:
        keep = True  # the servers' logs say what went wrong
        raise
    finally:
        env.forget_redis_keys()
        output["machine"]["load_average_end"] = load_average()
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{started}.json"
        path.write_text(json.dumps(output, indent=1, default=str))
        print(f"\nload average at the end {load_average()[0]:.2f}; results in {path}")
        if keep:
            print(f"logs and configs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


def report_http(
    env: Environment,
    directory: Path,
    args: argparse.Namespace,
    rows: list[Row],
    skipped: dict[str, str],
    output: dict[str, Any],
) -> list[Round]:
    """The http section: measured, printed and added to `output`."""
    rounds: list[Round] = []
    counted: dict[str, dict[str, float]] = {}
    if rows:
        rounds, probed, counted = http_section(env, directory, args, rows)
        skipped.update(probed)
    summary = summarize(rounds)
    output["rounds"] = [{k: dataclasses.asdict(m) for k, m in r.items()} for r in rounds]
    output["summary"] = {key: dataclasses.asdict(s) for key, s in summary.items()}
    output["skipped"] = skipped
    output["faults"] = counted
    if summary:
        print()
        print(rows_table(summary, LABELS))
    for line in load_notes(rounds):
        print(line)
    for key, reason in skipped.items():
        print(f"skipped row {key} ({LABELS[key].strip()}): {reason}")
    for name, found in counted.items():
        listed = ", ".join(f"{sample} {value:g}" for sample, value in found.items())
        print(f"warning: the {name} decision server counted faults (its rows flatter): {listed}")
    return rounds


def webhooks_section(env: Environment) -> str | None:
    """bench/webhooks.py, run like the other benchmarks with a database of its own, when it
    exists (the hook for the webhooks work: it prints its own table)."""
    if importlib.util.find_spec("bench.webhooks") is None:
        print("no webhooks benchmark yet (bench/webhooks.py); skipped")
        return None
    extra = {}
    if env.postgres:
        env.ensure_database("gk_bench_webhooks")
        extra = env.django(env.database_url("gk_bench_webhooks"))
    return run_module("bench.webhooks", [], extra)
