"""What bench/wrk.py reads from wrk's output (wrk 4.1, with bench/lua.py's script)."""

from __future__ import annotations

import pytest

from bench.wrk import WrkOutputError, command, parse

# A real run of `wrk -t1 -c4 -d1s --latency -s requests-statuses.lua` against a server that
# answered half the requests with 404.
OUTPUT = """\
Running 1s test @ http://127.0.0.1:18081/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.20ms    5.96ms  21.87ms   47.77%
    Req/Sec   583.40     39.22   640.00     60.00%
  Latency Distribution
     50%    7.57ms
     75%   12.45ms
     90%   15.49ms
     99%   18.95ms
  582 requests in 1.00s, 4.46MB read
  Non-2xx or 3xx responses: 293
Requests/sec:    581.40
Transfer/sec:      4.45MB
repeated 585
status 404 293
status 200 289
"""

FAST = """\
Running 8s test @ http://127.0.0.1:40000/
  1 threads and 32 connections
  Latency Distribution
     50%  264.00us
     75%  300.00us
     90%  369.00us
     99%    1.20s
  450122 requests in 1.00m, 54.51MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
Requests/sec:  56262.77
Transfer/sec:      6.81MB
repeated 0
"""


def test_a_run_reads_as_rate_latency_errors_and_statuses():
    result = parse(OUTPUT)
    assert result.requests == 582
    assert result.seconds == 1.0
    assert result.rate == 581.40
    assert result.p50_ms == 7.57
    assert result.p99_ms == 18.95
    assert result.non_2xx == 293
    assert result.socket_errors == 0
    assert result.repeated == 585
    assert result.statuses == {404: 293, 200: 289}


def test_latencies_in_microseconds_and_seconds_become_milliseconds():
    result = parse(FAST)
    assert result.p50_ms == pytest.approx(0.264)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.seconds == 60.0
    assert result.socket_errors == 7
    assert result.non_2xx == 0
    assert result.statuses == {}


def test_output_without_a_latency_distribution_is_refused():
    without = "\n".join(line for line in FAST.splitlines() if "%" not in line)
    with pytest.raises(WrkOutputError, match="--latency"):
        parse(without)


def test_the_command_is_one_thread_with_the_script_and_its_file():
    argv = command("http://127.0.0.1:1/", "s.lua", ["list.txt"], duration=8, connections=32)
    assert argv[:6] == ["wrk", "-t1", "-c32", "-d8s", "--latency", "--timeout"]
    assert argv[-5:] == ["-s", "s.lua", "http://127.0.0.1:1/", "--", "list.txt"]
