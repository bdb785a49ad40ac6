"""`/health` of a decision server, answered within PROBE_TIMEOUT whatever the database or Redis
is doing: each call asks both afresh in a thread of its own (one at a time per process) and
waits for that at most PROBE_TIMEOUT; a check that takes longer counts as no answer. What the
background refresher saw fills in when no fresh answer came.

- `ok` (200): a snapshot, the database answering the version poll, Redis (when configured)
  answering its ping.
- `degraded` (200): still deciding, from the last snapshot, but something is wrong, and
  `problems` says what: the database does not answer (changes are not picked up), a rebuild
  fails, or Redis does not answer (HMAC requests fail closed, rate limits fail open or closed
  as configured).
- `unavailable` (503): no snapshot at all (the database has been unreachable since start).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from authz.runtime import Runtime

# The refresher polls every 0.25 s; a database that has not answered for this long is down
# (or hanging), whatever its last error said.
DATABASE_STALE_AFTER = 3.0
# Redis is pinged once a second.
REDIS_STALE_AFTER = 3.0


PROBE_TIMEOUT = 0.5
_prober = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gk-health")
_in_flight: Future | None = None


async def probe(runtime: Runtime) -> None:
    """Check the database and Redis now, waiting at most PROBE_TIMEOUT. A check still running
    from an earlier call is waited for, never doubled: a hanging database must not collect
    one stuck thread per load-balancer probe."""
    global _in_flight
    if _in_flight is None or _in_flight.done():
        _in_flight = _prober.submit(_check, runtime)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.wrap_future(_in_flight), PROBE_TIMEOUT)


def _check(runtime: Runtime) -> None:
    runtime.holder.check_database()
    if runtime.redis is not None:
        runtime.redis.ping()


@dataclass(frozen=True)
class Report:
    status: int
    body: dict[str, Any]


def report(runtime: Runtime) -> Report:
    holder = runtime.holder
    snapshot = holder.snapshot
    database = holder.database.state(stale_after=DATABASE_STALE_AFTER)
    problems = []
    if database != "ok":
        problems.append(f"database {database}: configuration changes are not picked up")
    if holder.last_error:
        problems.append(f"snapshot rebuild failing: {holder.last_error.split(':', 1)[0]}")
    warnings = []
    if runtime.redis is None:
        cache = "local (one process, no Redis)"
    else:
        cache = runtime.redis.probe.state(stale_after=REDIS_STALE_AFTER)
        if cache != "ok":
            limits = "allowed" if settings.GATEKEEPER_RATE_LIMIT_FAIL_OPEN else "denied"
            hmac = "allowed" if settings.GATEKEEPER_HMAC_FAIL_OPEN else "denied"
            problems.append(
                f"redis {cache}: HMAC requests are {hmac} (replays cannot be checked), "
                f"rate-limited requests are {limits}"
            )
        if runtime.redis.warning:
            warnings.append(runtime.redis.warning)
    if snapshot is None:
        status, code = "unavailable", 503
    elif problems:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    age = holder.age()
    return Report(
        code,
        {
            "status": status,
            # Which decision process answered (a server has several).
            "worker": os.getpid(),
            "problems": problems,
            "warnings": warnings,
            "database": database,
            "cache": cache,
            "config_version": snapshot.version if snapshot else None,
            "snapshot": {
                "version": snapshot.version if snapshot else None,
                "age_seconds": round(age, 3) if age is not None else None,
                "reloads": holder.reloads,
                "routes": len(snapshot.routes) if snapshot else 0,
                "clients": len(snapshot.clients) if snapshot else 0,
            },
            "audit": runtime.decisions.health(),
        },
    )
