"""The config version: one database row that every configuration write changes, and a log of
what each write touched.

Each decision process keeps an in-memory snapshot of the configuration and polls the version
row (one primary-key read, a few times a second) from a background thread; when the token
differs from the one its snapshot was built from, it reads the change log since the last
change it applied and rebuilds only what changed: one client's entry, or the route index, or
(for a change of unknown scope) everything. The row and the log live in the database, next to
the configuration itself, so that:

- a change is visible to every process of every instance, whichever process made it (a command,
  the admin, the API) and whether or not Redis is up;
- both are written in the same transaction as the change: a rolled-back change bumps nothing,
  and a committed one can never be committed without its bump.

Log ids follow commit order: a transaction writes its log rows only after it has locked the
version row (its first bump upserts it), so a later transaction cannot write a row until the
earlier one has committed. A reader that has seen id N has therefore seen every row below N.

The token is random rather than a counter, so a restored backup can never hand back a value an
old snapshot already carries. The tables belong to the `authz` app (its migration creates
them); this module only knows their names, because everything below `authz` writes them and
may not import `authz`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

TABLE = "gatekeeper_config_version"
LOG_TABLE = "gatekeeper_config_change"
ROW_ID = 1
# Log rows older than this are deleted now and then; decision processes rebuild everything
# more often than that (authz/refresh.py WHOLE_BUILD_EVERY), so none of them needs older ones.
LOG_KEPT = timedelta(minutes=10)
PRUNE_ONE_IN = 200


@dataclass(frozen=True)
class Change:
    """One log row: what a write touched."""

    id: int
    client_id: str | None  # that client's entry (keys, secrets, permissions, limits, status)
    routes: bool  # the routes or their method rules
    everything: bool  # unknown scope (a bulk write): rebuild it all


def current(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The version now committed (as this connection sees it), or None before the first change."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT token FROM {TABLE} WHERE id = %s", [ROW_ID])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


def position(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The version and the newest log row, as one value that changes with every change, even
    within one transaction (as that transaction's own connection sees it): `<token>@<log id>`.
    None before the first change."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT token, (SELECT MAX(id) FROM {LOG_TABLE}) FROM {TABLE} "  # noqa: S608
            "WHERE id = %s",
            [ROW_ID],
        )
        row = cursor.fetchone()
    return f"{row[0]}@{row[1] or 0}" if row else None


def changes_since(last: int, using: str = DEFAULT_DB_ALIAS) -> list[Change]:
    """The log rows after id `last`, in order."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT id, client_id, routes, everything FROM {LOG_TABLE} "  # noqa: S608
            "WHERE id > %s ORDER BY id",
            [last],
        )
        rows = cursor.fetchall()
    return [Change(row[0], row[1], bool(row[2]), bool(row[3])) for row in rows]


def last_change(using: str = DEFAULT_DB_ALIAS) -> int:
    """The id of the newest log row (0 when there is none)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {LOG_TABLE}")  # noqa: S608
        row = cursor.fetchone()
    return row[0] or 0


def bump(
    using: str = DEFAULT_DB_ALIAS, *, client_id: object = None, routes: bool = False
) -> str | None:
    """Record a configuration change in the caller's transaction.

    Name what changed when it is known (`client_id`, or `routes=True`); with neither, the
    change is of unknown scope and every decision process rebuilds everything (bulk writes).
    Returns the new token, or None when this transaction had already written one: every later
    change in it becomes visible in the same commit as that first bump.
    """
    conn = connections[using]
    with transaction.atomic(using=using):
        token = None
        if not _bumped_in_this_transaction(conn):
            token = uuid.uuid4().hex
            with conn.cursor() as cursor:
                # An upsert: the row may be missing (a fresh or flushed database), and two first
                # writers racing must both succeed. It also takes the row's lock, which orders
                # the log rows below by commit.
                cursor.execute(
                    f"INSERT INTO {TABLE} (id, token, changed_at) VALUES (%s, %s, %s) "  # noqa: S608
                    "ON CONFLICT (id) DO UPDATE SET token = excluded.token, "
                    "changed_at = excluded.changed_at",
                    [ROW_ID, token, timezone.now()],
                )
            # A marker, not work: Django drops it with the savepoint or transaction that rolls
            # back, together with the row written above, so "marker present" means "bumped".
            transaction.on_commit(_bumped, using=using)
        _log(conn, client_id, routes)
    return token


def _log(conn, client_id: object, routes: bool) -> None:
    everything = client_id is None and not routes
    now = timezone.now()
    with conn.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LOG_TABLE} (client_id, routes, everything, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)",
            [str(client_id) if client_id is not None else None, routes, everything, now],
        )
        if random.random() < 1 / PRUNE_ONE_IN:  # noqa: S311 - not a secret, a chore's turn
            cursor.execute(
                f"DELETE FROM {LOG_TABLE} WHERE created_at < %s",  # noqa: S608
                [now - LOG_KEPT],
            )


def _bumped() -> None:
    """The on-commit marker of `bump` (does nothing)."""


def _bumped_in_this_transaction(conn) -> bool:
    return any(callback is _bumped for _, callback, _ in conn.run_on_commit)
