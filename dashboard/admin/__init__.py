"""The dashboard's admin pages (imported by the admin's autodiscovery)."""

from __future__ import annotations

from dashboard.admin import decisions  # noqa: F401 - registers on import
