"""The dashboard's admin pages (imported by the admin's autodiscovery)."""

from __future__ import annotations

from django.contrib import admin

from dashboard.admin import clients, decisions, routes  # noqa: F401 - register on import

# The home page: the overview above Django's list of apps (dashboard.views.index).
admin.site.index_template = "admin/dashboard/index.html"
