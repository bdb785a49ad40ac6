"""Decisions as other apps may watch them (webhooks): callables registered when their app is
ready, called on the request path after every decision with the decision and its time.

An observer runs inside a decision: it must be cheap (a counter, a dictionary lookup) and must
never block or touch the database; anything slow it hands off to a thread of its own. An
observer that raises is logged and skipped, never allowed to fail the decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from authz.engine import Decision

log = logging.getLogger(__name__)

DecisionObserver = Callable[[Decision, float], None]
_observers: list[DecisionObserver] = []


def register(observer: DecisionObserver) -> None:
    if observer not in _observers:
        _observers.append(observer)


def notify(decision: Decision, now: float) -> None:
    for observer in _observers:
        try:
            observer(decision, now)
        except Exception:
            log.exception("decision observer %r failed; the decision stands", observer)
