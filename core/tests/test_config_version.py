"""The config version lives in the real shared cache (Redis in CI, local memory otherwise)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction

from core import config_version
from routes.tests.factories import RouteFactory


def test_bump_changes_the_version():
    first = config_version.bump()
    second = config_version.bump()
    assert first != second
    assert config_version.current() == second


@pytest.mark.django_db(transaction=True)
def test_a_saved_route_bumps_the_version_after_commit():
    before = config_version.bump()
    with transaction.atomic():
        RouteFactory()
        # Readers must not see a new version before the change is visible in the database.
        assert config_version.current() == before
    assert config_version.current() != before


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_does_not_bump():
    before = config_version.bump()

    def create_then_fail() -> None:
        with transaction.atomic():
            RouteFactory()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert config_version.current() == before


@pytest.mark.needs("redis")
def test_version_is_shared_through_redis():
    import redis
    from django.conf import settings

    version = config_version.bump()
    raw = redis.Redis.from_url(settings.REDIS_URL)
    stored = raw.get(cache.make_key(config_version.KEY))
    assert stored is not None, (
        "the config version must be stored in Redis, where every process sees it"
    )
    assert version.encode() in stored
