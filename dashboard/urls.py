from __future__ import annotations

from django.contrib import admin
from django.urls import path

from dashboard import views
from dashboard.admin import clients

app_name = "dashboard"

urlpatterns = [
    path("tester/", admin.site.admin_view(views.tester), name="tester"),
    path(
        "clients/<uuid:client_id>/grant/",
        admin.site.admin_view(clients.grant_view),
        name="grant",
    ),
]
