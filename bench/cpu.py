"""CPU time and memory of server processes, from /proc.

A server is started in a session of its own, so its master and every worker share one process
group; the CPU a measurement charges to a server is the sum of utime + stime (all threads)
over the processes of that group, read before and after the load. Per request, that is
steadier on a shared machine than requests per second: other people's work slows the server
down but does not add to its CPU time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Stat:
    pid: int
    pgrp: int
    ticks: int  # utime + stime, in clock ticks


def parse_stat(text: str) -> Stat:
    """One /proc/<pid>/stat line. The command name (field 2) may hold spaces and parentheses,
    so the fields are counted from the last ')'."""
    pid = int(text[: text.index(" ")])
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
    return Stat(pid=pid, pgrp=int(fields[2]), ticks=int(fields[11]) + int(fields[12]))


def group_stats(pgid: int, proc: Path = PROC) -> list[Stat]:
    """Every live process of process group `pgid`."""
    stats = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = parse_stat((entry / "stat").read_text())
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue  # gone between the listing and the read
        if stat.pgrp == pgid:
            stats.append(stat)
    return stats


def group_ticks(pgid: int, proc: Path = PROC) -> int:
    return sum(stat.ticks for stat in group_stats(pgid, proc))


def micros_per_request(ticks: int, requests: int) -> float | None:
    if requests <= 0:
        return None
    return ticks / CLOCK_TICKS * 1e6 / requests


def parse_rss_kib(status_text: str) -> int:
    """VmRSS of a /proc/<pid>/status text, in KiB."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError("no VmRSS line (a kernel thread, or a process that has exited)")


def rss_kib(pid: int, proc: Path = PROC) -> int:
    return parse_rss_kib((proc / str(pid) / "status").read_text())
