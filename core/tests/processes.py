"""`manage.py` in a process of its own, for tests of what an operator's terminal shows.

The process gets the test settings and a throwaway SQLite database (it must not need the test
database), and optionally a cap on its address space, so that a regression that would eat
gigabytes dies inside the cap instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_NOT_PASSED = ("DATABASE_URL", "REDIS_URL", "GATEKEEPER_REQUIRE_ALL")
# Sets the limit in the child, then becomes manage.py (no preexec_fn: the test process may run
# threads, and running Python code between fork and exec is unsafe then).
_LIMITED = (
    "import os, resource, sys; "
    "limit = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
    "os.execv(sys.executable, [sys.executable, 'manage.py', *sys.argv[2:]])"
)


def run_manage_py(
    *args: str, scratch: Path, memory_limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in _NOT_PASSED}
    env["DATABASE_URL"] = f"sqlite:///{scratch / 'unused.sqlite3'}"
    env["DJANGO_SETTINGS_MODULE"] = "gatekeeper_project.test_settings"
    if memory_limit is None:
        argv = [sys.executable, "manage.py", *args]
    else:
        argv = [sys.executable, "-c", _LIMITED, str(memory_limit), *args]
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
