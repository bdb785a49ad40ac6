"""What a service that writes many objects at once returns: each item's result or its error.

Bulk services (`create_routes`, `create_clients`, `issue_credentials`, `grant_many`,
`set_rate_limits`) check every item with the same rules as their one-at-a-time forms, write
the valid items in a few statements (one audit row per object, as ever), and say which items
were refused and why, by their index in the input. The caller decides whether a refused item
rolls the whole transaction back (the config file does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.core.exceptions import ValidationError

from core import config_version

T = TypeVar("T")

# Rows per INSERT of a bulk service.
BULK_BATCH = 1000


@dataclass
class Batch(Generic[T]):
    done: dict[int, T] = field(default_factory=dict)
    errors: dict[int, ValidationError] = field(default_factory=dict)

    def one(self) -> T:
        """The result of a batch of one item; its error raised."""
        if self.errors:
            raise self.errors[0]
        return self.done[0]


# Past this many clients, one change of unknown scope (each decision process rebuilds its
# snapshot whole) costs less than a logged change per client (each patched in).
SCOPED_BUMPS = 100


def bump_clients(client_ids: Iterable[object]) -> None:
    """Record that a bulk write changed these clients' entries (bulk_create sends no signals,
    so the version and the change log are written here)."""
    ids = set(client_ids)
    if len(ids) > SCOPED_BUMPS:
        config_version.bump()
        return
    for client_id in ids:
        config_version.bump(client_id=client_id)
