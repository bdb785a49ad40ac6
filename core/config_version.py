"""The config version: one database row that every configuration write changes.

Each decision process keeps an in-memory snapshot of the configuration and polls this row (one
primary-key read, a few times a second) from a background thread; when the token differs from
the one its snapshot was built from, it rebuilds. The row lives in the database, next to the
configuration itself, so that:

- a change is visible to every process of every instance, whichever process made it (a command,
  the admin, the API) and whether or not Redis is up;
- the row is written in the same transaction as the change: a rolled-back change bumps nothing,
  and a committed one can never be committed without its bump (no "after commit" step to lose).

The token is random rather than a counter, so a restored backup can never hand back a value an
old snapshot already carries. The table belongs to the `authz` app (its migration creates it);
this module only knows its name, because everything below `authz` writes it and may not import
`authz`.
"""

from __future__ import annotations

import uuid

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

TABLE = "gatekeeper_config_version"
ROW_ID = 1


def current(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The version now committed (as this connection sees it), or None before the first change."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT token FROM {TABLE} WHERE id = %s", [ROW_ID])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


def bump(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """Write a new version in the caller's transaction (once per transaction is enough).

    Returns the new token, or None when this transaction already wrote one: every later change
    in it becomes visible in the same commit as that first bump.
    """
    conn = connections[using]
    if conn.in_atomic_block and _bumped_in_this_transaction(conn):
        return None
    token = uuid.uuid4().hex
    with conn.cursor() as cursor:
        # An upsert: the row may be missing (a fresh or flushed database), and two first
        # writers racing must both succeed.
        cursor.execute(
            f"INSERT INTO {TABLE} (id, token, changed_at) VALUES (%s, %s, %s) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token, "
            "changed_at = excluded.changed_at",
            [ROW_ID, token, timezone.now()],
        )
    if conn.in_atomic_block:
        # A marker, not work: Django drops it with the savepoint or transaction that rolls back,
        # together with the row written above, so "marker present" means "bump still pending".
        transaction.on_commit(_bumped, using=using)
    return token


def _bumped() -> None:
    """The on-commit marker of `bump` (does nothing)."""


def _bumped_in_this_transaction(conn) -> bool:
    return any(callback is _bumped for _, callback, _ in conn.run_on_commit)
