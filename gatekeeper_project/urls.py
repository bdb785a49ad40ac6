"""The admin server's URLs. Decisions are served by the decision server (authz/asgi.py)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from authz import metrics_view
from dashboard import views as dashboard_views

admin.site.site_header = "Gatekeeper"
admin.site.site_title = "Gatekeeper"
admin.site.index_title = "Routes, clients and permissions"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The dashboard's home page and pages, before the admin's own URLs.
    path("admin/", admin.site.admin_view(dashboard_views.index)),
    path("admin/dashboard/", include("dashboard.urls")),
    path("admin/", admin.site.urls),
    # The REST admin API: on the admin's listener only, never the decision server's.
    path("api/v1/", include("api.urls")),
    path("metrics", metrics_view.metrics, name="metrics"),
]
