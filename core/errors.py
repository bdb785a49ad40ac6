"""Domain exceptions that services raise and adapters turn into responses once, at the edge.

Commands turn them into a one-line `CommandError` (non-zero exit), the admin into messages or
field errors. Bad input to a service raises Django's `ValidationError` (so the admin shows
field errors); a missing object raises `NotFound`; a refused operation raises `Conflict`.
"""

from __future__ import annotations


class GatekeeperError(Exception):
    """Base class of every error a service raises on purpose."""


class NotFound(GatekeeperError):
    """The named object does not exist."""


class Conflict(GatekeeperError):
    """The operation is not possible in the current state (e.g. revoking a revoked credential)."""
