"""Per-minute decision counts: added in the database, exact under concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from audit.models import DecisionCount
from audit.services import add_decision_counts

T0 = datetime(2026, 11, 25, 10, 15, tzinfo=UTC)


def stored() -> dict[tuple[datetime, str], int]:
    return {(row.minute, row.reason): row.count for row in DecisionCount.objects.all()}


@pytest.mark.django_db
def test_counts_are_added_per_minute_and_reason():
    add_decision_counts(
        {(T0, "authenticated"): 5, (T0 + timedelta(seconds=30), "no_permission"): 2}
    )
    add_decision_counts(
        {
            (T0 + timedelta(seconds=59), "authenticated"): 3,
            (T0 + timedelta(minutes=1), "authenticated"): 1,
            (T0, "no_route_match"): 0,
        }
    )
    assert stored() == {
        (T0, "authenticated"): 8,
        (T0, "no_permission"): 2,
        (T0 + timedelta(minutes=1), "authenticated"): 1,
    }


@pytest.mark.django_db
def test_times_in_other_zones_land_on_their_utc_minute():
    from zoneinfo import ZoneInfo

    local = T0.astimezone(ZoneInfo("Europe/Berlin")) + timedelta(seconds=12)
    add_decision_counts({(local, "authenticated"): 4, (T0, "authenticated"): 1})
    assert stored() == {(T0, "authenticated"): 5}


@pytest.mark.django_db
def test_nothing_to_add_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        add_decision_counts({})
        add_decision_counts({(T0, "authenticated"): 0})


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_lose_no_count():
    writers, rounds = 4, 25
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            start.wait()
            for _ in range(rounds):
                add_decision_counts({(T0, "authenticated"): 1, (T0, "no_permission"): 2})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert stored() == {
        (T0, "authenticated"): writers * rounds,
        (T0, "no_permission"): 2 * writers * rounds,
    }
