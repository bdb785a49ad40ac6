"""wrk: the command every HTTP row runs, and what its output says.

Every row runs the same wrk: one thread, 32 connections, the latency distribution, and the
Lua script of bench/lua.py (so wrk's own cost is the same in every row). The script prints
what wrk does not: requests it had to send twice (its list ran out) and, when asked, how many
answers had each status.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

THREADS = 1
CONNECTIONS = 32
# Long enough that a slow answer is measured (and counted in p99) rather than dropped as a
# timeout.
TIMEOUT = "10s"

_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_TO_S = {"us": 1e-6, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.M)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses: (\d+)", re.M)
_SOCKET = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.M
)
_REPEATED = re.compile(r"^repeated (\d+)$", re.M)
_STATUS = re.compile(r"^status (\d{3}) (\d+)$", re.M)


class WrkOutputError(ValueError):
    """wrk's output is not what this parser knows (another version, or it failed)."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rate: float  # requests per second
    latency_ms: Mapping[float, float]  # percentile -> milliseconds
    non_2xx: int = 0
    socket_errors: int = 0
    repeated: int = 0
    statuses: Mapping[int, int] = field(default_factory=dict)

    @property
    def p50_ms(self) -> float:
        return self.latency_ms[50.0]

    @property
    def p99_ms(self) -> float:
        return self.latency_ms[99.0]


def parse(text: str) -> WrkResult:
    total = _TOTAL.search(text)
    rate = _RATE.search(text)
    latency = {float(p): float(v) * _TO_MS[unit] for p, v, unit in _PERCENTILE.findall(text)}
    if total is None or rate is None or 99.0 not in latency or 50.0 not in latency:
        raise WrkOutputError(f"unexpected wrk output (run with --latency?):\n{text}")
    non_2xx = _NON_2XX.search(text)
    sockets = _SOCKET.search(text)
    repeated = _REPEATED.search(text)
    return WrkResult(
        requests=int(total[1]),
        seconds=float(total[2]) * _TO_S[total[3]],
        rate=float(rate[1]),
        latency_ms=latency,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        repeated=int(repeated[1]) if repeated else 0,
        statuses={int(status): int(n) for status, n in _STATUS.findall(text)},
    )


def command(
    url: str,
    script: Path,
    script_args: list[str],
    *,
    duration: int,
    connections: int = CONNECTIONS,
) -> list[str]:
    return [
        "wrk",
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        TIMEOUT,
        "-s",
        str(script),
        url,
        "--",
        *script_args,
    ]


def run(
    url: str,
    script: Path,
    script_args: list[str],
    *,
    duration: int,
    connections: int = CONNECTIONS,
) -> WrkResult:
    argv = command(url, script, script_args, duration=duration, connections=connections)
    done = subprocess.run(  # noqa: S603 - our own fixed command line
        argv, capture_output=True, text=True, timeout=duration + 120, check=False
    )
    if done.returncode != 0:
        raise WrkOutputError(f"wrk exited with {done.returncode}: {done.stderr or done.stdout}")
    return parse(done.stdout)
