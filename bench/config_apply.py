"""apply_config at scale (issue 12, item 5): a new file of 10,002 routes and 10,002 clients (one
API key and one permission each), then the same file again, each in its own `manage.py`
process, as an operator runs it.

Rows: the new file's wall time (target 20 s), the unchanged file's (target 2 s), the peak
memory of either process (target 200 MB, the resident set `wait4` reports), and the audit rows
the new file wrote (one per object changed, and one `config.applied` for the whole apply).
PostgreSQL only, in a database of its own (`gk_bench_config` on the DATABASE_URL server),
emptied of configuration before each run.

Run: `.venv/bin/python -m bench.config_apply` (about a minute; `--size` for another size).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import yaml

DATABASE = "gk_bench_config"
SIZE = 10_002
TARGETS = {"new": 20.0, "unchanged": 2.0, "memory": 200.0}
BASE_DIR = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatekeeper")
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench.config_apply needs PostgreSQL: set DATABASE_URL=postgres://...")
    return urlunparse(parts._replace(path=f"/{DATABASE}"))


def config(size: int) -> dict[str, list]:
    """`size` routes on a few domains and `size` clients, each with a generated API key and a
    permission on its own route."""
    domains = ("*", "api.example.com", "*.example.com", "eu.api.example.com")
    routes, clients = [], []
    for i in range(size):
        domain, pattern = domains[i % len(domains)], f"/svc{i}/items/{{id}}/*"
        routes.append(
            {
                "domain": domain,
                "pattern": pattern,
                "service": f"svc{i % 50}",
                "methods": {"GET": "api_key", "POST": "any"},
            }
        )
        clients.append(
            {
                "name": f"client-{i:05d}",
                "credentials": [{"kind": "api_key"}],
                "permissions": [{"domain": domain, "pattern": pattern, "methods": ["GET"]}],
            }
        )
    return {"routes": routes, "clients": clients}


def manage(env: dict[str, str], *args: str) -> str:
    """Run manage.py for setup; its standard error (where the audit count is written)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr.decode()[-3000:]}")
    return done.stderr.decode()


def measured(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one manage.py process (its output discarded: a new
    file prints one generated key per client)."""
    started = time.perf_counter()
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env,
        file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
    )
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"manage.py {' '.join(args)} failed")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=SIZE)
    args = parser.parse_args()
    url = _database_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "gatekeeper_project.test_settings",
        "LOG_LEVEL": "WARNING",
    }
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    subprocess.run(  # noqa: S603 - fixed arguments
        ["psql", admin, "-qc", f"CREATE DATABASE {DATABASE}"],  # noqa: S607
        capture_output=True,
        check=False,
    )
    manage(env, "migrate", "--no-input")
    manage(env, "shell", "-c", _EMPTY)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "config.yaml"
        path.write_text(yaml.safe_dump(config(args.size), sort_keys=False))
        new, new_mb = measured(env, "apply_config", str(path))
        audit = manage(env, "shell", "-c", _AUDIT_COUNT).strip().splitlines()[-1]
        again, again_mb = measured(env, "apply_config", str(path))
    # One row per object changed, and one for the apply as a whole (config.applied).
    objects = args.size * 4 + 1
    peak = max(new_mb, again_mb)
    rows = [
        ("new file", f"{new:.1f} s", f"<= {TARGETS['new']:.0f} s", new <= TARGETS["new"]),
        (
            "unchanged file",
            f"{again:.1f} s",
            f"<= {TARGETS['unchanged']:.0f} s",
            again <= TARGETS["unchanged"],
        ),
        (
            "peak memory",
            f"{peak:.0f} MB",
            f"<= {TARGETS['memory']:.0f} MB",
            peak <= TARGETS["memory"],
        ),
        ("audit rows", audit, f"{objects:,} (one per object, +1)", audit == f"{objects:,}"),
    ]
    print(f"apply_config, {args.size:,} routes and {args.size:,} clients (PostgreSQL {DATABASE})")
    for name, value, target, ok in rows:
        print(f"  {name:<16} {value:>12}   target {target:<24} {'ok' if ok else 'MISSED'}")


_EMPTY = (
    "from clients.models import Client; from routes.models import Route; "
    "from audit.models import AuditEvent; "
    "Client.objects.all().delete(); Route.objects.all().delete(); "
    "AuditEvent.objects.all().delete()"
)
_AUDIT_COUNT = (
    "import sys; from audit.models import AuditEvent; "
    "sys.stderr.write(f'{AuditEvent.objects.count():,}')"
)


if __name__ == "__main__":
    main()
