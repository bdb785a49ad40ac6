"""The config version is a database row written in the changing transaction itself."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import config_version
from routes.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_bump_changes_the_version():
    first = config_version.bump()
    second = config_version.bump()
    assert first != second
    assert config_version.current() == second


def test_a_saved_route_bumps_the_version_with_its_commit():
    before = config_version.bump()
    with transaction.atomic():
        RouteFactory()
        # In the same transaction, so another connection sees both at once or neither.
        changed = config_version.current()
        assert changed != before
    assert config_version.current() == changed


def test_a_rolled_back_change_does_not_bump():
    before = config_version.bump()

    def create_then_fail() -> None:
        with transaction.atomic():
            RouteFactory()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert config_version.current() == before


def test_a_rolled_back_savepoint_takes_its_bump_along_and_a_later_change_bumps_again():
    before = config_version.bump()
    with transaction.atomic():
        try:
            with transaction.atomic():
                RouteFactory()
                raise RuntimeError("inner change undone")
        except RuntimeError:
            pass
        assert config_version.current() == before
        RouteFactory()
    assert config_version.current() != before


def test_many_writes_in_one_transaction_write_the_row_once():
    with transaction.atomic():
        RouteFactory()
        first = config_version.current()
        for _ in range(5):
            RouteFactory()
        assert config_version.current() == first, "one bump per transaction is enough"


def test_a_flushed_table_gets_its_row_back_on_the_next_change():
    from authz.models import ConfigVersion

    ConfigVersion.objects.all().delete()
    assert config_version.current() is None
    assert config_version.bump() == config_version.current()
