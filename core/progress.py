"""A progress line for long runs of a command, on a terminal only (never in a pipe or a log):
`applying: 12,000 of 40,002 changes (30%)`, rewritten in place at most a few times a second
and cleared at the end."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TextIO

# Runs shorter than this show no line at all.
QUIET_SECONDS = 2.0
EVERY_SECONDS = 0.25


class Progress:
    def __init__(self, stream: TextIO, what: str = "applying", noun: str = "changes") -> None:
        self.stream = stream
        self.what, self.noun = what, noun
        self.started = self.shown = time.monotonic()
        self.on_terminal = bool(getattr(stream, "isatty", lambda: False)())
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.on_terminal or now - self.started < QUIET_SECONDS:
            return
        if now - self.shown < EVERY_SECONDS and done < total:
            return
        self.shown = now
        share = f" ({100 * done // total}%)" if total else ""
        self.stream.write(f"\r{self.what}: {done:,} of {total:,} {self.noun}{share}\x1b[K")
        self.stream.flush()
        self.drawn = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
