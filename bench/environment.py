"""What a benchmark run's processes share: tools, databases, Redis, settings, the machine.

The run's databases are `gk_bench_*` databases of the PostgreSQL in DATABASE_URL (created when
missing, their configuration replaced on every run); Redis keys live under a prefix of the
run's own and are deleted at its end. Secrets (SECRET_KEY, the Fernet key that seals HMAC
secrets) are made for the run and never written down.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from cryptography.fernet import Fernet

NJS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")
INSTALL = "apt-get install -y wrk nginx-light libnginx-mod-http-js"
SCENE_DB = "gk_bench_scene"
DATASET_DB = "gk_bench_10k"
# A login flood must never lock the admin's address out: a lockout answers cheaply.
NEVER_LOCKED = "1000000"


def missing_tools() -> list[str]:
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if not NJS_MODULE.exists():
        missing.append(f"njs ({NJS_MODULE})")
    return missing


@dataclass(frozen=True)
class Environment:
    """The settings every server of the run gets; `django()` adds one server's own."""

    postgres: str | None  # a postgres:// URL whose database name is replaced per use
    redis_url: str | None
    sqlite: Path  # the small configuration for the embedded default's row
    prefix: str
    secret_key: str
    fernet_keys: str

    @classmethod
    def from_os(cls, directory: Path) -> Environment:
        url = os.environ.get("DATABASE_URL", "")
        return cls(
            postgres=url if urlsplit(url).scheme in ("postgres", "postgresql") else None,
            sqlite=directory / "scene.sqlite3",
            redis_url=os.environ.get("REDIS_URL") or None,
            prefix=f"gkbench{secrets.token_hex(4)}",
            secret_key=secrets.token_urlsafe(50),
            fernet_keys=Fernet.generate_key().decode(),
        )

    @property
    def sqlite_url(self) -> str:
        return f"sqlite:///{self.sqlite}"

    @property
    def scene_url(self) -> str:
        """The small configuration: on PostgreSQL when there is one, else in SQLite."""
        return self.database_url(SCENE_DB) if self.postgres else self.sqlite_url

    def database_url(self, name: str) -> str:
        assert self.postgres is not None
        return urlunsplit(urlsplit(self.postgres)._replace(path=f"/{name}"))

    def django(self, database_url: str, *, redis: bool = True, **extra: str) -> dict[str, str]:
        env = {
            "DJANGO_SETTINGS_MODULE": "gatekeeper_project.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": (self.redis_url or "") if redis else "",
            "GATEKEEPER_CACHE_PREFIX": self.prefix,
            "SECRET_KEY": self.secret_key,
            "GATEKEEPER_SECRET_KEYS": self.fernet_keys,
            # nginx asks with `Host: gatekeeper` (its upstream's name).
            "ALLOWED_HOSTS": "gatekeeper,127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "false",
            "GATEKEEPER_LOGIN_FAILURE_LIMIT": NEVER_LOCKED,
        }
        return {**env, **extra}

    def missing_parts(self) -> dict[str, str]:
        """postgres / redis -> why it cannot be used (absent when it can)."""
        missing = {}
        if self.postgres is None:
            missing["postgres"] = "set DATABASE_URL=postgres://... (rows on PostgreSQL)"
        else:
            try:
                psycopg.connect(self.database_url("postgres"), connect_timeout=3).close()
            except psycopg.Error as exc:
                missing["postgres"] = f"PostgreSQL does not answer: {type(exc).__name__}"
        if self.redis_url is None:
            missing["redis"] = "set REDIS_URL=redis://... (rows with Redis)"
        else:
            try:
                redis.Redis.from_url(self.redis_url, socket_timeout=3).ping()
            except redis.RedisError as exc:
                missing["redis"] = f"Redis does not answer: {type(exc).__name__}"
        return missing

    def ensure_database(self, name: str) -> None:
        with psycopg.connect(self.database_url("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return
            conn.execute(f'CREATE DATABASE "{name}"')

    def forget_redis_keys(self) -> int:
        """Delete this run's keys (nonces, counters, cache entries); how many there were."""
        if self.redis_url is None:
            return 0
        client = redis.Redis.from_url(self.redis_url, socket_timeout=10)
        deleted = 0
        batch: list[bytes] = []
        try:
            for key in client.scan_iter(match=f"{self.prefix}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += client.unlink(*batch)
                    batch.clear()
            if batch:
                deleted += client.unlink(*batch)
        except redis.RedisError as exc:
            print(f"could not delete the run's Redis keys ({self.prefix}:*): {exc}")
        return deleted


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def _version(argv: list[str]) -> str:
    """The first line a tool prints about its version (nginx writes it to stderr)."""
    try:
        done = subprocess.run(  # noqa: S603 - our own fixed command line
            argv, capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return "missing"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def machine() -> dict[str, object]:
    """What a reader needs to judge the numbers: the CPU, the load, the versions."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "nginx": _version(["nginx", "-v"]),
        "wrk": _version(["wrk", "--version"]),
        "granian": version("granian"),
        "gunicorn": version("gunicorn"),
        "django": version("django"),
        "load_average_start": load_average(),
    }
