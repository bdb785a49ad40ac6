"""Webhooks in the admin: endpoints and the delivery log (imported by autodiscovery)."""

from __future__ import annotations

from webhooks.admin import deliveries, endpoints  # noqa: F401 - register on import
