"""ASGI entry point (unused by the default deployment, which runs gunicorn with WSGI)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.settings")

application = get_asgi_application()
