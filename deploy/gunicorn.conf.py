"""gunicorn settings for Gatekeeper (`gunicorn --config deploy/gunicorn.conf.py ...`).

Without REDIS_URL the cache is local memory, which is per process: keep one worker then, and
use threads for concurrency. With Redis, scale workers with WEB_CONCURRENCY.
"""

from __future__ import annotations

import os

bind = os.environ.get("GATEKEEPER_BIND", "127.0.0.1:7843")
workers = int(os.environ.get("WEB_CONCURRENCY", "1" if not os.environ.get("REDIS_URL") else "2"))
threads = int(os.environ.get("GATEKEEPER_THREADS", "4"))
# Proxies call the decider for every request; keep connections open between them.
keepalive = 30
timeout = 30
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
