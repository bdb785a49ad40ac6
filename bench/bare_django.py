"""Row C, the yardstick of the ratios: nginx's auth_request answered by a bare Django view.

The view only says yes; everything else is Django's handler with Gatekeeper's settings and
middleware, on gunicorn as deploy/gunicorn.conf.py sets it (the way decisions were served
before the decision server). Run: `gunicorn --config deploy/gunicorn.conf.py
bench.bare_django:application` (bench/servers.py does, with
DJANGO_SETTINGS_MODULE=bench.bare_settings).
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_settings")


def allow(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=200)
    response["X-Auth-Reason"] = "authenticated"
    return response


urlpatterns = [path("authz", allow)]

application = get_wsgi_application()
