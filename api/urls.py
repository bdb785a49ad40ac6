"""/api/v1/: the REST admin API, its OpenAPI schema and its documentation pages.

Served by the admin's process pool only (gatekeeper_project/urls.py); the decision server
(authz/asgi.py) answers none of it.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import IsAdminUser
from rest_framework.routers import DefaultRouter

# Registers the token scheme with drf-spectacular (whose schema is made from these URLs).
from api import schema  # noqa: F401
from api.problems import CONTENT_TYPE
from api.views.clients import ClientViewSet, CredentialViewSet
from api.views.permissions import PermissionViewSet, RateLimitViewSet
from api.views.routes import RouteViewSet
from api.views.trail import AuditEventViewSet, DecisionViewSet
from api.views.whole import ConfigView, ExplainView

app_name = "api"


@csrf_exempt  # it changes nothing, whatever the method
def not_found(request: HttpRequest) -> JsonResponse:
    body = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Not found."}
    return JsonResponse(body, status=404, content_type=CONTENT_TYPE)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("routes", RouteViewSet)
router.register("clients", ClientViewSet)
router.register("credentials", CredentialViewSet)
router.register("permissions", PermissionViewSet)
router.register("rate-limits", RateLimitViewSet, basename="ratelimit")
router.register("audit-events", AuditEventViewSet)
router.register("decisions", DecisionViewSet)

# The schema and its pages are for staff only, like everything else here.
_staff = {"permission_classes": [IsAdminUser]}

urlpatterns = [
    path("", include(router.urls)),
    path("explain", ExplainView.as_view(), name="explain"),
    path("config", ConfigView.as_view(), name="config"),
    path("schema/", SpectacularAPIView.as_view(**_staff), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **_staff), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", **_staff), name="redoc"),
    # Anything else under /api/v1/ is a problem detail too, not the admin's HTML page.
    re_path(r"^.*$", not_found),
]
