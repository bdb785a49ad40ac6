"""Who made a change: the first argument of every audit row."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class Actor:
    """A staff user in the admin, an operator at the command line, or the system itself."""

    kind: str  # "user", "cli", "config" or "system"
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        return cls("user", request.user.get_username())

    @classmethod
    def cli(cls, command: str) -> Actor:
        """The operator running a management command, named by the OS account."""
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls("cli", f"{who}/{command}")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls("system", what)
