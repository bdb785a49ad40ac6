"""The admin server's URLs. Decisions are served by the decision server (authz/asgi.py)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from authz import metrics_view

admin.site.site_header = "Gatekeeper"
admin.site.site_title = "Gatekeeper"
admin.site.index_title = "Routes, clients and permissions"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view.metrics, name="metrics"),
]
