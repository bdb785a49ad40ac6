"""Decisions as other apps may watch them (webhooks): callables registered when their app is
ready, called on the request path after every decision with the decision and its time.

An observer runs inside a decision: it must be cheap (a counter, a dictionary lookup) and must
never block or touch the database; anything slow it hands off to a thread of its own, which
`start` and `stop` (given to `register`) run when a decision server process starts and stops
(`authz.runtime`), and never in a process that only decides in-process (tests, commands). An
observer that raises is logged and skipped, never allowed to fail the decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from authz.engine import Decision

log = logging.getLogger(__name__)

DecisionObserver = Callable[[Decision, float], None]
_observers: list[DecisionObserver] = []
_starts: list[Callable[[], None]] = []
_stops: list[Callable[[], None]] = []


def register(
    observer: DecisionObserver,
    *,
    start: Callable[[], None] | None = None,
    stop: Callable[[], None] | None = None,
) -> None:
    if observer in _observers:
        return
    _observers.append(observer)
    if start is not None:
        _starts.append(start)
    if stop is not None:
        _stops.append(stop)


def unregister(observer: DecisionObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)


def start() -> None:
    """Start the observers' background work (a decision server process starts)."""
    for begin in _starts:
        begin()


def stop() -> None:
    """Stop it; each stop hands on what it can (the process is stopping, or tests reset)."""
    for end in _stops:
        try:
            end()
        except Exception:
            log.exception("decision observer could not stop cleanly")


def notify(decision: Decision, now: float) -> None:
    for observer in _observers:
        try:
            observer(decision, now)
        except Exception:
            log.exception("decision observer %r failed; the decision stands", observer)
