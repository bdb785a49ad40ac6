"""The config version: one shared-cache key that every configuration write changes.

Each decision process keeps an in-memory snapshot of the configuration and compares this
version with the one its snapshot was built from; when they differ it rebuilds. The value is
a random token rather than a counter, so that a cache that lost its data (a Redis restart)
can never hand back a number that an old snapshot already carries.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction

KEY = "gatekeeper:config-version"


def current() -> str | None:
    """The version now in the shared cache, or None when it has none (fresh or wiped cache)."""
    return cache.get(KEY)


def ensure() -> str:
    """The current version, creating one when the cache has none (atomically: every process
    that races here ends up with the same value)."""
    cache.add(KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(KEY) or bump()


def bump() -> str:
    """Set a new version at once. Use `bump_on_commit` inside transactions."""
    version = uuid.uuid4().hex
    cache.set(KEY, version, timeout=None)
    return version


def bump_on_commit() -> None:
    """Bump after the current transaction commits (at once when there is none).

    Readers must never see a version whose changes are not yet visible in the database,
    and a rolled-back change must not trigger reloads.
    """
    # robust: the write itself succeeded; a cache outage is logged by Django, not raised.
    transaction.on_commit(bump, robust=True)
