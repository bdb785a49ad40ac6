"""Durations on the command line and in config files: `90s`, `15m`, `24h`, `30d`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

from core.redaction import quote_short

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> timedelta:
    """Parse `<number><unit>` (units s, m, h, d, w); raise ValueError with a readable message."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"{quote_short(text)} is not a duration like 90s, 15m, 24h, 30d or 2w")
    number, unit = match.groups()
    return timedelta(seconds=int(number) * _UNITS[unit])


def format_duration(delta: timedelta) -> str:
    """The shortest exact `parse_duration` spelling of a whole number of seconds."""
    seconds = int(delta.total_seconds())
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return "0s"
