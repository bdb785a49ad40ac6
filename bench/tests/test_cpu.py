"""CPU accounting from /proc (bench/cpu.py): a server's CPU is its process group's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.cpu import group_stats, group_ticks, micros_per_request, parse_rss_kib, parse_stat

# Fields 1-17 of /proc/<pid>/stat; utime (14) = 150 and stime (15) = 50.
STAT = "{pid} ({comm}) S 1 {pgrp} {pgrp} 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 3 0 1 2 3\n"


def fake_proc(tmp_path: Path, processes: dict[int, tuple[str, int, int, int]]) -> Path:
    """pid -> (comm, pgrp, utime, stime) as a /proc directory."""
    for pid, (comm, pgrp, utime, stime) in processes.items():
        (tmp_path / str(pid)).mkdir()
        line = STAT.format(pid=pid, comm=comm, pgrp=pgrp).replace(" 150 50 ", f" {utime} {stime} ")
        (tmp_path / str(pid) / "stat").write_text(line)
    (tmp_path / "self").mkdir()  # not a pid: skipped
    return tmp_path


def test_a_command_name_with_spaces_and_parentheses_is_read_past():
    stat = parse_stat(STAT.format(pid=42, comm="granian (worker) 1)", pgrp=40))
    assert (stat.pid, stat.pgrp, stat.ticks) == (42, 40, 200)


def test_a_group_is_its_master_and_every_worker_and_nothing_else(tmp_path):
    proc = fake_proc(
        tmp_path,
        {
            100: ("python", 100, 10, 5),  # the master
            101: ("python", 100, 300, 40),  # a worker
            102: ("python", 100, 250, 30),  # another
            200: ("nginx", 200, 999, 999),  # someone else's
        },
    )
    assert sorted(s.pid for s in group_stats(100, proc)) == [100, 101, 102]
    assert group_ticks(100, proc) == 10 + 5 + 300 + 40 + 250 + 30


def test_this_process_is_found_in_its_own_group_in_the_real_proc():
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc here")
    assert os.getpid() in {s.pid for s in group_stats(os.getpgrp())}


def test_ticks_become_microseconds_per_request():
    from bench.cpu import CLOCK_TICKS

    # One second of CPU over 10,000 requests is 100 us each.
    assert micros_per_request(CLOCK_TICKS, 10_000) == pytest.approx(100.0)
    assert micros_per_request(CLOCK_TICKS, 0) is None


def test_rss_is_read_from_the_status_text():
    text = "Name:\tpython\nVmPeak:\t  200000 kB\nVmRSS:\t   81234 kB\nThreads:\t5\n"
    assert parse_rss_kib(text) == 81234
    with pytest.raises(ValueError, match="VmRSS"):
        parse_rss_kib("Name:\tkthreadd\n")
