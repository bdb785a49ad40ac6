"""From measurements to the printed table and the targets (issue 11, Targets).

A ratio is taken within each round (both rows measured minutes apart on the same machine) and
the median over rounds is reported, so a round slowed down by someone else's build cancels out
instead of skewing one row. Rates, p99 and CPU per request are medians over rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The rows every ratio is taken against: the bare Django view and nginx alone.
DJANGO_ROW = "C"
NGINX_ROW = "A"
# "Stable over 100 rebuilds": the last sample within this much of the first.
RSS_GROWTH_MB = 5.0


@dataclass(frozen=True)
class Measurement:
    """One wrk run of one row."""

    row: str
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    requests: int
    cpu_us: float | None  # CPU of the decider's processes per request
    nginx_us: float | None  # CPU of the front nginx per request
    non_2xx: int = 0
    socket_errors: int = 0
    repeated: int = 0  # requests sent after the list ran out
    statuses: Mapping[int, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> int:
        return self.non_2xx + self.socket_errors


Round = Mapping[str, Measurement]


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(rounds: Sequence[Round], row: str, base: str, attr: str = "rate") -> float | None:
    """Median over rounds of row's `attr` / base's `attr`, each round on its own."""
    ratios = []
    for measured in rounds:
        if row in measured and base in measured:
            denominator = getattr(measured[base], attr)
            if denominator:
                ratios.append(getattr(measured[row], attr) / denominator)
    return _median(ratios)


@dataclass(frozen=True)
class Summary:
    row: str
    rate: float
    p99_ms: float
    cpu_us: float | None
    nginx_us: float | None
    vs_django: float | None
    vs_nginx: float | None
    problems: int  # non-2xx answers and socket errors over every round
    repeated: int


def summarize(rounds: Sequence[Round]) -> dict[str, Summary]:
    rows = list(dict.fromkeys(key for measured in rounds for key in measured))
    summary = {}
    for row in rows:
        runs = [measured[row] for measured in rounds if row in measured]
        summary[row] = Summary(
            row=row,
            rate=statistics.median(m.rate for m in runs),
            p99_ms=statistics.median(m.p99_ms for m in runs),
            cpu_us=_median([m.cpu_us for m in runs]),
            nginx_us=_median([m.nginx_us for m in runs]),
            vs_django=ratio(rounds, row, DJANGO_ROW),
            vs_nginx=ratio(rounds, row, NGINX_ROW),
            problems=sum(m.problems for m in runs),
            repeated=sum(m.repeated for m in runs),
        )
    return summary


@dataclass(frozen=True)
class Target:
    name: str
    measured: float | None
    bound: float | None  # None: reported, no target
    at_most: bool = False  # the measured value must be <= bound (else >=)
    unit: str = "x"

    @property
    def wanted(self) -> str:
        if self.bound is None:
            return "report"
        return f"{'<=' if self.at_most else '>='} {self.bound:g}{self.unit}"

    @property
    def met(self) -> bool | None:
        if self.measured is None or self.bound is None:
            return None
        return self.measured <= self.bound if self.at_most else self.measured >= self.bound


def targets(rounds: Sequence[Round], snapshot: Mapping[str, Any] | None) -> list[Target]:
    summary = summarize(rounds)
    key_p99 = summary["key"].p99_ms if "key" in summary else None
    flood_503 = [m.statuses.get(503, 0) for r in rounds for k, m in r.items() if k == "flood"]
    found = [
        Target("uncached API-key allow / C", ratio(rounds, "key", DJANGO_ROW), 3.0),
        Target("uncached API-key allow p99", key_p99, 5.0, at_most=True, unit="ms"),
        Target("rate-limited / unlimited allow", ratio(rounds, "limited", "key"), 0.85),
        Target("cached allow, hot path / A", ratio(rounds, "cached", NGINX_ROW), 0.80),
        Target("cached allow, realistic mix / A", ratio(rounds, "cached-mix", NGINX_ROW), None),
        Target("API-key allow / seed-style decider", ratio(rounds, "key", "seed"), 10.0),
        Target(
            "/authz p99 under login flood / unloaded",
            ratio(rounds, "flood", "unloaded", "p99_ms"),
            1.5,
            at_most=True,
        ),
        Target(
            "503s under the login flood",
            float(sum(flood_503)) if flood_503 else None,
            0.0,
            at_most=True,
            unit="",
        ),
        Target(
            "10k: p99 during config changes / steady",
            ratio(rounds, "10k-churn", "10k", "p99_ms"),
            2.0,
            at_most=True,
        ),
    ]
    if snapshot:
        rss = snapshot.get("rss_mb") or []
        rebuilds = max(0, len(rss) - 1)
        # Growth after the first rebuild: that one allocates the second snapshot's caches once.
        settled = rss[1:] if len(rss) > 2 else rss
        found += [
            Target("10k snapshot rebuild", snapshot["rebuild_median_ms"], 300.0, True, "ms"),
            Target("10k snapshot cold build", snapshot["cold_median_ms"], None, True, "ms"),
            Target(
                f"worker RSS over {rebuilds} rebuilds (max)",
                max(rss) if rss else None,
                100.0,
                True,
                "MB",
            ),
            Target(
                f"worker RSS growth, rebuild 1 to {rebuilds}",
                settled[-1] - settled[0] if settled else None,
                RSS_GROWTH_MB,
                True,
                "MB",
            ),
        ]
    return found


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _ratio_spec(value: float | None) -> str:
    return _fmt(value, ".3f" if value is not None and value < 1 else ".2f")


def rows_table(summary: Mapping[str, Summary], labels: Mapping[str, str]) -> str:
    head = (
        f"{'row':<58} {'req/s':>8} {'p99 ms':>8} {'cpu us/req':>10} {'nginx us':>9} "
        f"{'vs C':>6} {'vs A':>6}  notes"
    )
    lines = [head, "-" * len(head)]
    for row, s in summary.items():
        notes = []
        if s.problems:
            notes.append(f"{s.problems} non-2xx/socket errors")
        if s.repeated:
            notes.append(f"{s.repeated} repeated requests")
        lines.append(
            f"{labels.get(row, row):<58} {s.rate:>8,.0f} {s.p99_ms:>8.2f} "
            f"{_fmt(s.cpu_us, '.0f'):>10} {_fmt(s.nginx_us, '.1f'):>9} "
            f"{_ratio_spec(s.vs_django):>6} {_ratio_spec(s.vs_nginx):>6}  {', '.join(notes)}"
        )
    return "\n".join(lines)


def load_notes(rounds: Sequence[Round]) -> list[str]:
    """What ran beside the rows with a load: failed logins and config changes per run."""
    notes = []
    floods = [m.extra for r in rounds for m in r.values() if "flood_attempts" in m.extra]
    if floods:
        attempts = statistics.median(e["flood_attempts"] for e in floods)
        statuses = sorted({s for e in floods for s in e["flood_statuses"]})
        notes.append(
            f"login flood: {floods[0]['flood_threads']} threads, median {attempts:g} failed "
            f"logins per run (admin answered: {', '.join(statuses) or 'nothing'})"
        )
    churns = [
        m.extra["config_changes"] for r in rounds for m in r.values() if "config_changes" in m.extra
    ]
    if churns:
        notes.append(f"config changes: median {statistics.median(churns):g} per run")
    return notes


def snapshot_lines(snapshot: Mapping[str, Any]) -> str:
    rss = snapshot.get("rss_mb") or [0.0]
    return (
        f"snapshot build at the dataset's size: cold {snapshot['cold_median_ms']:.0f} ms, "
        f"rebuild after one client changed {snapshot['rebuild_median_ms']:.0f} ms (medians)\n"
        f"decision worker RSS over {len(rss) - 1} rebuilds: first {rss[0]:.1f} MB, "
        f"max {max(rss):.1f} MB, last {rss[-1]:.1f} MB"
    )


def targets_table(found: Sequence[Target]) -> str:
    marks: dict[bool | None, str] = {True: "met", False: "NOT MET", None: ""}
    head = f"{'target':<44} {'wanted':>10} {'measured':>10}  result"
    lines = [head, "-" * len(head)]
    for target in found:
        measured = "-" if target.measured is None else f"{target.measured:.2f}{target.unit}"
        lines.append(f"{target.name:<44} {target.wanted:>10} {measured:>10}  {marks[target.met]}")
    return "\n".join(lines)
