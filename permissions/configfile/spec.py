"""What a validated config file says: frozen dataclasses, and the errors that point into it.

Every spec carries its `location` in the file (`clients[1].permissions[0]`), so an error found
later, against the database or while applying, still names the line of the file to fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.errors import GatekeeperError

# A route's identity: (normalised domain, pattern).
RouteKey = tuple[str, str]
# Two routes on one domain whose patterns differ only in placeholder names (Route's canonical
# pattern): the second could never match.
SAME_PATHS = (
    "matches the same paths as {other}: placeholders match any segment whatever their names"
)


def route_label(key: RouteKey) -> str:
    """`*/api/data/*`, as Route.__str__ writes it."""
    return f"{key[0]}{key[1]}"


@dataclass(frozen=True)
class Issue:
    """One problem in a config file, at a location such as `routes[0].pattern`."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ConfigError(GatekeeperError):
    """The file cannot be applied; `issues` lists every problem found, in file order."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass(frozen=True)
class RouteSpec:
    location: str
    domain: str
    pattern: str
    service: str
    description: str
    # (method, auth) pairs in canonical method order.
    methods: tuple[tuple[str, str], ...]

    @property
    def key(self) -> RouteKey:
        return (self.domain, self.pattern)

    @property
    def method_map(self) -> dict[str, str]:
        return dict(self.methods)


@dataclass(frozen=True)
class CredentialSpec:
    """A credential to import (`value` given) or to generate (`value` None)."""

    location: str
    kind: str
    label: str
    value: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RateLimitSpec:
    location: str
    limit: int
    window: str
    route: RouteKey | None  # None: the client-wide limit

    @property
    def key(self) -> tuple[RouteKey | None, str]:
        return (self.route, self.window)


@dataclass(frozen=True)
class PermissionSpec:
    location: str
    route: RouteKey
    methods: tuple[str, ...]  # canonical order


@dataclass(frozen=True)
class ClientSpec:
    location: str
    name: str
    id: uuid.UUID | None
    status: str
    description: str
    credentials: tuple[CredentialSpec, ...]
    rate_limits: tuple[RateLimitSpec, ...]
    permissions: tuple[PermissionSpec, ...]


@dataclass(frozen=True)
class Config:
    routes: tuple[RouteSpec, ...]
    clients: tuple[ClientSpec, ...]
    # Every route the file names, including entries with errors in other fields, so that
    # references to a broken entry are not also reported as references to nothing.
    named_routes: frozenset[RouteKey]
