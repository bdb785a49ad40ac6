"""The configuration as the decision path sees it: immutable values, in memory.

Built by authz/build.py (the only code on the decision side that reads the database); each
decision process holds one snapshot (authz/refresh.py), replaced by a background thread when
the configuration changes and swapped in one assignment; requests never build one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from authz.matching import RouteIndex


class UnreadableRoute(Exception):
    """A stored pattern the grammar refuses: the configuration cannot be compiled safely."""


@dataclass(frozen=True, slots=True)
class RouteRule:
    id: int
    domain: str
    pattern: str
    service: str
    methods: Mapping[str, str]  # method -> auth

    def __str__(self) -> str:
        return f"{self.domain}{self.pattern}"


@dataclass(frozen=True, slots=True)
class ApiKey:
    credential_id: int
    client_id: str
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class HmacSecret:
    credential_id: int
    secret: bytes = field(repr=False)
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class Limit:
    route_id: int | None
    limit: int
    window: int  # seconds


@dataclass(frozen=True, slots=True)
class ClientEntry:
    id: str
    name: str
    status: str
    permissions: Mapping[int, frozenset[str]]  # route id -> allowed methods
    hmac_secrets: tuple[HmacSecret, ...] = ()
    limits: tuple[Limit, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: str | None
    built_at: float
    index: RouteIndex[RouteRule]
    routes: Mapping[int, RouteRule]
    clients: Mapping[str, ClientEntry]
    api_keys: Mapping[str, ApiKey]  # digest -> key
    revoked_keys: Mapping[str, ApiKey] = field(default_factory=dict)  # digest -> revoked key
