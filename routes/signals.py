"""Signals that routes sends to apps above it (which it may not import).

`route_methods_removed` is sent inside the transaction of `set_route_methods` when methods
disappear from a route, so that `permissions` can narrow the grants on that route in the same
transaction (a permission's methods stay a subset of its route's methods).
Arguments: `route` (Route), `removed` (tuple of method names), `actor` (core.actor.Actor).
"""

from __future__ import annotations

from django.dispatch import Signal

route_methods_removed = Signal()
