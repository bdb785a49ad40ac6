"""Put first in MIDDLEWARE: decision requests skip everything after it.

`/authz` is asked once per API call and needs no session, CSRF, auth, messages or host
validation (the proxy sends its upstream name as Host; trust is by peer address instead), and
neither does a Prometheus scrape of `/metrics`.

Every request's log lines carry the proxy's `X-Request-ID` when it sent one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from authz import metrics_view, shapes, views
from core.logging import bind_request_id, unbind_request_id

_SHORTCUTS = {
    "/authz": views.authz,
    "/authz/forward": views.forward,
    "/authz/ingress": views.ingress,
    "/health": views.health,
    "/metrics": metrics_view.metrics,
}
_ENVOY = shapes.ENVOY_PREFIX + "/"


class DecisionShortcut:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = bind_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        try:
            return self._serve(request)
        finally:
            unbind_request_id(token)

    def _serve(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        view = _SHORTCUTS.get(path)
        if view is not None:
            return view(request)
        if path.startswith(_ENVOY):
            return views.envoy(request)
        return self.get_response(request)
