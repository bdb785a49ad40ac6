"""Who made a change: the first argument of every audit row."""

from __future__ import annotations

import getpass
import os
import pwd
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

# A login name from the environment is cut to this length (anyone can set it to anything).
CLAIMED_NAME_LIMIT = 32


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
        """The operator running a management command: `cli:alice(uid=1000)/grant`.

        The account comes from the process's uid, which the operator cannot choose. The login
        name in the environment ($LOGNAME, $USER, ...) can be set to anything, so where it
        differs it is shown too, never instead: `cli:bob(uid=1000 alice)/grant`.
        """
        uid = os.getuid()
        try:
            account = pwd.getpwuid(uid).pw_name
        except KeyError:
            account = "?"
        try:
            claimed = getpass.getuser()[:CLAIMED_NAME_LIMIT]
        except (KeyError, OSError):
            claimed = account
        who = f"{account}(uid={uid})" if claimed == account else f"{claimed}(uid={uid} {account})"
        return cls("cli", f"{who}/{command}")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls("system", what)
