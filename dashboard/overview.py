"""What the overview (the admin's home page) shows, each part one bounded query.

- Traffic: `audit.DecisionCount`, one row per minute and reason (the unique index's range).
- Top denied clients and routes: the latest TOP_WINDOW denials only (a range of the time
  index), however many the table holds.
- Recent changes: the newest audit events (time index).
- Expiring credentials and idle clients: the credential and client tables, which grow with
  customers, not with traffic.
- Health: the database and the cache probed directly, and this process's snapshot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent, DecisionCount, DecisionRecord
from authz.reasons import Reason
from authz.refresh import SnapshotUnavailable
from authz.runtime import get_runtime
from clients.models import Client, Credential

WINDOW_MINUTES = 60
TOP_WINDOW = 10_000
TOP = 5
EXPIRING_WITHIN = timedelta(days=14)
IDLE_AFTER = timedelta(days=30)
LISTED = 10
ALLOWING = tuple(r.value for r in Reason if r.allows)
# Bars: allowed first, then each deny reason in a fixed colour.
COLOURS = {
    "allowed": "#3b873b",
    Reason.INVALID_CREDENTIALS: "#c0392b",
    Reason.NO_PERMISSION: "#e67e22",
    Reason.METHOD_NOT_ALLOWED: "#d4ac0d",
    Reason.RATE_LIMIT_EXCEEDED: "#8e44ad",
    Reason.NO_ROUTE_MATCH: "#7f8c8d",
    Reason.METHOD_NOT_CONFIGURED: "#95a5a6",
    Reason.MALFORMED_REQUEST: "#2c3e50",
    Reason.CLIENT_SUSPENDED: "#a04000",
    Reason.CLIENT_REVOKED: "#6e2c00",
}
CHART_HEIGHT = 120
BAR_WIDTH = 10


@dataclass(frozen=True)
class Segment:
    label: str
    count: int
    colour: str
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    minute: datetime
    x: int
    total: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Traffic:
    bars: tuple[Bar, ...]
    peak: int
    totals: tuple[tuple[str, int, str], ...]  # (label, count, colour), allowed first
    start: datetime
    end: datetime
    width: int
    height: int = CHART_HEIGHT


def _label(reason: str) -> str:
    return "allowed" if reason in ALLOWING else reason


def traffic(now: datetime) -> Traffic:
    """Decisions per minute over the last hour: allowed, and denied by reason."""
    end = now.replace(second=0, microsecond=0)
    start = end - timedelta(minutes=WINDOW_MINUTES - 1)
    per_minute: dict[datetime, dict[str, int]] = {}
    rows = DecisionCount.objects.filter(minute__gte=start, minute__lte=end)
    for minute, reason, count in rows.values_list("minute", "reason", "count"):
        cell = per_minute.setdefault(minute, {})
        cell[_label(reason)] = cell.get(_label(reason), 0) + count
    totals: dict[str, int] = {}
    for cell in per_minute.values():
        for label, count in cell.items():
            totals[label] = totals.get(label, 0) + count
    order = [label for label in COLOURS if label in totals] + sorted(set(totals) - set(COLOURS))
    peak = max((sum(cell.values()) for cell in per_minute.values()), default=0)
    scale = CHART_HEIGHT / peak if peak else 0.0
    bars = []
    for index in range(WINDOW_MINUTES):
        minute = start + timedelta(minutes=index)
        cell = per_minute.get(minute, {})
        y = float(CHART_HEIGHT)
        segments = []
        for label in order:
            count = cell.get(label, 0)
            if not count:
                continue
            height = count * scale
            y -= height
            segments.append(Segment(label, count, COLOURS.get(label, "#555"), y, height))
        bars.append(Bar(minute, index * BAR_WIDTH, sum(cell.values()), tuple(segments)))
    return Traffic(
        bars=tuple(bars),
        peak=peak,
        totals=tuple((label, totals[label], COLOURS.get(label, "#555")) for label in order),
        start=start,
        end=end,
        width=WINDOW_MINUTES * BAR_WIDTH,
    )


@dataclass(frozen=True)
class Denied:
    id: str
    name: str
    count: int


@dataclass(frozen=True)
class TopDenied:
    clients: tuple[Denied, ...]
    routes: tuple[Denied, ...]
    since: datetime | None  # the oldest denial looked at
    window: int = TOP_WINDOW


def _latest_denials() -> QuerySet[DecisionRecord]:
    latest = (
        DecisionRecord.objects.exclude(reason__in=ALLOWING)
        .order_by("-time", "-id")
        .values("id")[:TOP_WINDOW]
    )
    return DecisionRecord.objects.filter(id__in=latest).order_by()


def top_denied() -> TopDenied:
    """The clients and routes denied most among the latest TOP_WINDOW denials."""
    denials = _latest_denials()

    def top(id_field: str, name_field: str) -> tuple[Denied, ...]:
        rows = (
            denials.exclude(**{id_field: None})
            .values(id_field)
            .annotate(name=Max(name_field), n=Count("id"))
            .order_by("-n", id_field)[:TOP]
        )
        return tuple(Denied(str(row[id_field]), row["name"], row["n"]) for row in rows)

    since = denials.aggregate(since=Min("time"))["since"]
    return TopDenied(top("client_id", "client_name"), top("route_id", "route_label"), since)


def recent_changes() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("-time", "-id")[:LISTED])


def expiring_credentials(now: datetime) -> list[Credential]:
    soon = Credential.objects.live(now).filter(expires_at__lte=now + EXPIRING_WITHIN)
    return list(soon.select_related("client").order_by("expires_at")[:LISTED])


@dataclass(frozen=True)
class Idle:
    count: int
    clients: tuple[Client, ...]


def idle_clients(now: datetime) -> Idle:
    """Active clients older than IDLE_AFTER whose credentials were not used within it."""
    cutoff = now - IDLE_AFTER
    idle = (
        Client.objects.filter(status=Client.Status.ACTIVE, created_at__lt=cutoff)
        .annotate(last_used=Max("credentials__last_used_at"))
        .filter(Q(last_used__isnull=True) | Q(last_used__lt=cutoff))
    )
    return Idle(idle.count(), tuple(idle.order_by("name")[:LISTED]))


@dataclass(frozen=True)
class Health:
    database: str  # "ok" or the error's type
    database_ms: float | None
    cache: str
    cache_ms: float | None
    snapshot_age: float | None  # seconds; None: this process holds no snapshot yet
    snapshot_version: str | None
    snapshot_error: str | None


def _timed(probe) -> tuple[str, float | None]:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure is the answer: the part is not healthy
        return type(exc).__name__, None
    return "ok", (time.perf_counter() - started) * 1000


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    token = str(time.monotonic_ns())
    cache.set("gatekeeper:admin-health-probe", token, timeout=10)
    if cache.get("gatekeeper:admin-health-probe") != token:
        raise DatabaseError("the cache did not keep a value")


def health() -> Health:
    database, database_ms = _timed(_database)
    cache_state, cache_ms = _timed(_cache)
    holder = get_runtime().holder
    try:
        snapshot = holder.fresh()
    except SnapshotUnavailable:
        snapshot = None
    return Health(
        database=database,
        database_ms=database_ms,
        cache=cache_state,
        cache_ms=cache_ms,
        snapshot_age=holder.age(),
        snapshot_version=snapshot.version if snapshot else None,
        snapshot_error=holder.last_error,
    )


def overview(now: datetime | None = None) -> dict[str, object]:
    now = now or timezone.now()
    return {
        "traffic": traffic(now),
        "top_denied": top_denied(),
        "recent_changes": recent_changes(),
        "expiring": expiring_credentials(now),
        "expiring_days": EXPIRING_WITHIN.days,
        "idle": idle_clients(now),
        "idle_days": IDLE_AFTER.days,
        "health": health(),
    }
