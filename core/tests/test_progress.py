"""The progress line of long runs: on a terminal only, cleared at the end."""

from __future__ import annotations

import io

from core import progress
from core.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_line_rewritten_in_place_and_cleared(monkeypatch):
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.0)
    screen = Terminal()
    with Progress(screen) as show:
        show(500, 2000)
        show(2000, 2000)
    text = screen.getvalue()
    assert "\rapplying: 2,000 of 2,000 changes (100%)" in text
    assert text.endswith("\r\x1b[K")


def test_a_pipe_or_a_short_run_gets_nothing(monkeypatch):
    piped = io.StringIO()
    with Progress(piped) as show:
        show(1, 2)
    assert piped.getvalue() == ""
    screen = Terminal()
    with Progress(screen) as show:  # under QUIET_SECONDS
        show(1, 2)
    assert screen.getvalue() == ""
