"""Settings for the test suite: the real settings, plus values a fresh clone has no .env for.

The database and cache still come from DATABASE_URL / REDIS_URL, so `.ci/run` tests against
PostgreSQL and Redis with these same settings.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gatekeeper_project.settings import *  # noqa: F403
from gatekeeper_project.settings import (
    CACHES,
    GATEKEEPER_KEY_PEPPERS,
    GATEKEEPER_SECRET_KEYS,
    SECRET_KEY,
)

SECRET_KEY = SECRET_KEY or "test-only-secret-key-not-for-production"
# A fixed, valid Fernet key used only by tests (it protects nothing real).
GATEKEEPER_SECRET_KEYS = GATEKEEPER_SECRET_KEYS or ["p0r8C5Ww-VwB0nQWDyX4q7W9vQJp0kQfOlOSTzqoX9U="]
# A fixed pepper for imported keys, used only by tests.
GATEKEEPER_KEY_PEPPERS = GATEKEEPER_KEY_PEPPERS or ["test-only-key-pepper-not-for-production-0001"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests serve static files through the finders; no collectstatic output directory is needed.
STATIC_ROOT = None
# A key prefix of this run's own, so suites running side by side on one Redis never share a
# config version, a nonce or a rate-limit counter. A prefix given explicitly is kept: the
# gunicorn processes a test starts get the test's own (authz/tests/live.py).
if CACHES["default"].get("KEY_PREFIX", "gk") == "gk":
    CACHES = {**CACHES, "default": {**CACHES["default"], "KEY_PREFIX": f"gktest{os.getpid()}"}}
# This run's own spool, lock and metrics files; a server a test starts gets its own too
# (authz/tests/live.py passes GATEKEEPER_STATE_DIR).
if not os.environ.get("GATEKEEPER_STATE_DIR"):
    GATEKEEPER_STATE_DIR = Path(tempfile.mkdtemp(prefix="gatekeeper-test-state-"))
