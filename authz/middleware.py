"""Put first in MIDDLEWARE: decision requests skip everything after it.

`/authz` is asked once per API call and needs no session, CSRF, auth, messages or host
validation (the proxy sends its upstream name as Host; trust is by peer address instead).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from authz import views

_SHORTCUTS = {"/authz": views.authz, "/health": views.health}


class DecisionShortcut:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = _SHORTCUTS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
