"""Settings of row C (bench/bare_django.py): Gatekeeper's own settings and middleware, with a
URLconf of one view."""

from __future__ import annotations

from gatekeeper_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_django"
