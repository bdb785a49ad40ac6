"""From measurements to ratios and targets (bench/report.py)."""

from __future__ import annotations

import pytest

from bench.report import Measurement, Target, ratio, summarize, targets


def m(row: str, rate: float, p99: float = 1.0, **kw) -> Measurement:
    return Measurement(row, rate, p99 / 2, p99, int(rate * 8), 100.0, 10.0, **kw)


ROUNDS = [
    # The second round ran on a busier machine: every row slower, the ratios the same.
    {"A": m("A", 100_000), "C": m("C", 4000), "key": m("key", 12_000, 4.0)},
    {"A": m("A", 50_000), "C": m("C", 2000), "key": m("key", 6000, 6.0)},
    {"A": m("A", 90_000), "C": m("C", 3000), "key": m("key", 9600, 5.0)},
]


def test_ratios_are_taken_within_each_round_then_the_median():
    assert ratio(ROUNDS, "key", "C") == pytest.approx(3.0)
    assert ratio(ROUNDS, "key", "A", "p99_ms") == pytest.approx(5.0)
    assert ratio(ROUNDS, "key", "seed") is None


def test_the_summary_holds_medians_and_both_ratios():
    summary = summarize(ROUNDS)
    assert list(summary) == ["A", "C", "key"]
    key = summary["key"]
    assert (key.rate, key.p99_ms) == (9600, 5.0)
    assert key.vs_django == pytest.approx(3.0)
    assert key.vs_nginx == pytest.approx(0.12)


def test_targets_are_met_or_not_and_unmeasured_ones_say_so():
    found = {t.name: t for t in targets(ROUNDS, None)}
    assert found["uncached API-key allow / C"].met is True
    assert found["uncached API-key allow p99"].met is True  # 5.0 ms, the bound itself
    assert found["rate-limited / unlimited allow"].met is None


def test_a_flood_with_one_503_fails_its_target():
    rounds = [
        {
            "unloaded": m("unloaded", 10_000, 4.0, statuses={200: 80_000}),
            "flood": m("flood", 9000, 5.0, statuses={200: 71_999, 503: 1}),
        }
    ]
    found = {t.name: t for t in targets(rounds, None)}
    assert found["/authz p99 under login flood / unloaded"].met is True
    assert found["503s under the login flood"].met is False


def test_memory_targets_come_from_the_snapshot_section():
    snapshot = {"rebuild_median_ms": 120.0, "cold_median_ms": 400.0, "rss_mb": [80, 90, 93, 94]}
    found = {t.name.split(",")[0]: t for t in targets([], snapshot)}
    assert found["10k snapshot rebuild"].met is True
    assert found["10k snapshot cold build"].met is None
    rss = [t for t in targets([], snapshot) if t.name.startswith("worker RSS")]
    # Growth is counted from the first rebuild (80 -> 90 is the second snapshot arriving).
    assert [t.measured for t in rss] == [94, 4]
    assert [t.met for t in rss] == [True, True]


def test_a_bound_reads_as_what_is_wanted():
    assert Target("x", 1.0, 3.0).wanted == ">= 3x"
    assert Target("y", 1.0, 5.0, at_most=True, unit="ms").wanted == "<= 5ms"
    assert Target("z", 1.0, None).wanted == "report"


def test_faults_that_flatter_a_row_are_found_in_metrics():
    from bench.faults import parse

    page = "\n".join(
        [
            "# HELP gatekeeper_cache_errors_total Shared-cache (Redis) operations that failed.",
            'gatekeeper_cache_errors_total{operation="rate_limit"} 3.0',
            'gatekeeper_cache_errors_total{operation="nonce"} 0.0',
            'gatekeeper_decisions_total{reason="internal_error",shape="nginx",auth="none"} 1.0',
            'gatekeeper_decisions_total{reason="authenticated",shape="nginx",auth="api_key"} 9e5',
        ]
    )
    assert parse(page) == {
        'gatekeeper_cache_errors_total{operation="rate_limit"}': 3.0,
        'gatekeeper_decisions_total{reason="internal_error",shape="nginx",auth="none"}': 1.0,
    }
