"""Put first in MIDDLEWARE: decision requests skip everything after it.

`/authz` is asked once per API call and needs no session, CSRF, auth, messages or host
validation (the proxy sends its upstream name as Host; trust is by peer address instead).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from authz import shapes, views

_SHORTCUTS = {
    "/authz": views.authz,
    "/authz/forward": views.forward,
    "/authz/ingress": views.ingress,
    "/health": views.health,
}
_ENVOY = shapes.ENVOY_PREFIX + "/"


class DecisionShortcut:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        view = _SHORTCUTS.get(path)
        if view is not None:
            return view(request)
        if path.startswith(_ENVOY):
            return views.envoy(request)
        return self.get_response(request)
