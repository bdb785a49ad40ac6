"""Without Redis, nonces and rate-limit counters live in one process's memory, which is exact
only while that process is the only one deciding. Two deciders without a shared store would
each accept the same signed request once (a replay) and each allow the full rate limit.

The launcher (authz/serve.py) refuses more than one worker without REDIS_URL; this lock also
catches a second server started on the same state directory, whatever started it.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

LOCK_NAME = "embedded-decider.lock"
# A reload overlaps the old worker and the new one (authz/serve.py) by a few seconds.
HANDOVER_WAIT = 20.0
# Held for the life of the process (the kernel releases it when the process dies, however).
_held: list[int] = []


def hold_embedded_lock(state_dir: str | Path, *, wait: float = HANDOVER_WAIT) -> None:
    """Become the one decision process of this state directory, or raise.

    Waits up to `wait` seconds: on a reload the new worker starts while the old one still
    serves, and takes over when the old one exits.
    """
    directory = Path(state_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
        os.close(fd)
        raise ImproperlyConfigured(
            "Another Gatekeeper decision process already decides from "
            f"{directory} without a shared store. Without REDIS_URL only one process may "
            "decide (WEB_CONCURRENCY=1), or replays and rate limits stop being exact: set "
            "REDIS_URL to share them, or stop the other process."
        ) from None
    _held.append(fd)
