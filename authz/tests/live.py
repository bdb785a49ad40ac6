"""Gatekeeper as production runs it, for tests that need real processes.

`running()` starts gunicorn (the deploy config, several workers) on a free loopback port against
the test's own database and Redis, waits until it answers and always stops it. Each request
goes over a new TCP connection, so the kernel spreads requests over the workers; the access
log names the worker (pid) that answered each numbered request, which lets a test go on asking
until every worker has answered. (`tcp_proxy.TcpProxy` cuts its path to PostgreSQL or Redis.)
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings

from authz.tests.tcp_proxy import HOST, free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# Gunicorn writes the worker pid as "<1234>"; `probe` numbers our requests.
ACCESS_FORMAT = "%(p)s %(q)s %(s)s"
_ACCESS_LINE = re.compile(r"^<(\d+)> probe=(\d+) \d+$")


def database_address() -> tuple[str, int]:
    db = settings.DATABASES["default"]
    return db.get("HOST") or HOST, int(db.get("PORT") or 5432)


def redis_address() -> tuple[str, int]:
    url = urlsplit(settings.CACHES["default"]["LOCATION"])
    return url.hostname or HOST, url.port or 6379


def gatekeeper_env(
    *, database_port: int | None = None, redis_port: int | None = None
) -> dict[str, str]:
    """The environment of a Gatekeeper that shares this test's database (the test database,
    by name), Redis and cache prefix; a port given replaces the server's (a proxy's port)."""
    db = settings.DATABASES["default"]
    host, port = database_address()
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    name = quote(db["NAME"], safe="")
    cache = settings.CACHES["default"]
    redis_url = urlsplit(cache["LOCATION"])
    if redis_port is not None:
        userinfo, _, _ = redis_url.netloc.rpartition("@")
        netloc = f"{userinfo}@{HOST}:{redis_port}" if userinfo else f"{HOST}:{redis_port}"
        redis_url = redis_url._replace(netloc=netloc)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gatekeeper_project.test_settings",
        "DATABASE_URL": f"postgres://{auth}{host}:{database_port or port}/{name}",
        "REDIS_URL": urlunsplit(redis_url),
        "GATEKEEPER_CACHE_PREFIX": cache["KEY_PREFIX"],
    }


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """Terminate a server started in its own process group; kill the group if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        # The whole group: gunicorn's or nginx's workers too.
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT)


@dataclass(frozen=True)
class Answer:
    seq: int
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    received: float  # time.monotonic()

    @property
    def reason(self) -> str | None:
        return self.headers.get("x-auth-reason")

    def json(self) -> dict:
        return json.loads(self.body)


def answered(status: int, reason: str) -> Callable[[Answer], bool]:
    """What `Gatekeeper.sweep` calls right: this status with this `X-Auth-Reason`."""
    return lambda answer: answer.status == status and answer.reason == reason


@dataclass(frozen=True)
class Sweep:
    """Answers to one question asked until every worker answered right, none wrong after."""

    answers: tuple[Answer, ...]
    pids: Mapping[int, int]  # seq -> worker pid, where the access log named one
    wrong: tuple[Answer, ...]
    # Seconds from `since` until every worker had answered right (after the last wrong answer),
    # or None when that did not happen before the deadline.
    settled_after: float | None
    last_wrong_after: float | None

    def workers(self) -> set[int]:
        return set(self.pids.values())

    @property
    def always_right(self) -> bool:
        """Every worker answered, and every answer was right."""
        return self.settled_after is not None and not self.wrong

    def timing(self) -> str:
        if self.settled_after is None:
            return f"not every worker right in time ({len(self.answers)} requests)"
        stale = (
            f"last wrong answer at {self.last_wrong_after:.3f}s"
            if self.last_wrong_after is not None
            else "no wrong answer"
        )
        return (
            f"every worker right after {self.settled_after:.3f}s "
            f"({stale}, {len(self.answers)} requests)"
        )

    def summary(self) -> str:
        """Answers counted by worker, status and reason (for assertion messages)."""
        counts = Counter((self.pids.get(a.seq), a.status, a.reason) for a in self.answers)
        return ", ".join(
            f"pid {p} {s} {r}: {n}" for (p, s, r), n in sorted(counts.items(), key=str)
        )


class Gatekeeper:
    """One gunicorn serving Gatekeeper; its output and access log go to `log_dir`."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, *, workers: int = 2) -> None:
        self.env = dict(env)
        self.workers = workers
        self.port = free_port()
        self.access_log = log_dir / f"access-{self.port}.log"
        self.output = log_dir / f"gunicorn-{self.port}.log"
        self._proc: subprocess.Popen | None = None
        # Probes may come from several threads; next() on a count is atomic.
        self._seq = itertools.count(1)
        self._pids: dict[int, int] = {}
        self._log_offset = 0

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_FORMAT,
            "gatekeeper_project.wsgi",
        ]
        with self.output.open("wb") as output:
            # A new session, so the whole group can be killed if the master hangs.
            self._proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
                command,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_tail()}")
            try:
                self.get("/health")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not answer within {START_TIMEOUT}s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        stop_process(proc)

    def log_tail(self, lines: int = 40) -> str:
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def get(
        self, path: str, headers: Mapping[str, str] | None = None, *, timeout: float = 10.0
    ) -> Answer:
        """One request over a new connection (no keepalive, so any worker may take it)."""
        seq = next(self._seq)
        separator = "&" if "?" in path else "?"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request(
                "GET",
                f"{path}{separator}probe={seq}",
                headers={**(headers or {}), "Connection": "close"},
            )
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        return Answer(
            seq=seq,
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=body,
            received=time.monotonic(),
        )

    def authz(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float = 10.0,
    ) -> Answer:
        """Ask `/authz` the way nginx does."""
        return self.get(
            "/authz",
            {
                "X-Original-Method": method,
                "X-Original-URI": uri,
                "X-Original-Host": "api.example.com",
                **(headers or {}),
            },
            timeout=timeout,
        )

    def health(self, *, timeout: float = 10.0) -> Answer:
        return self.get("/health", timeout=timeout)

    def pid_of(self, seq: int) -> int | None:
        self._read_access_log()
        return self._pids.get(seq)

    def _read_access_log(self) -> None:
        if not self.access_log.exists():
            return
        with self.access_log.open("rb") as log:
            log.seek(self._log_offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._log_offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            match = _ACCESS_LINE.match(line)
            if match:
                self._pids[int(match[2])] = int(match[1])

    def sweep(
        self,
        ask: Callable[[], Answer],
        right: Callable[[Answer], bool],
        *,
        timeout: float = 5.0,
        since: float | None = None,
    ) -> Sweep:
        """Ask until every worker has answered right since the last wrong answer.

        `settled_after` is measured from `since` (default: now) to the first right answer of
        the worker that came right last: an upper bound on when every worker was right.
        """
        since = time.monotonic() if since is None else since
        deadline = time.monotonic() + timeout
        answers: list[Answer] = []
        streak_from = 0
        settled = False
        while time.monotonic() < deadline:
            answer = ask()
            answers.append(answer)
            if not right(answer):
                streak_from = len(answers)
            streak_pids = {self.pid_of(a.seq) for a in answers[streak_from:]} - {None}
            if len(streak_pids) >= self.workers:
                settled = True
                break
        pids = self._settle_pids(answers)
        wrong = tuple(a for a in answers if not right(a))
        settled_after = None
        if settled:
            first_right: dict[int, float] = {}
            for answer in answers[streak_from:]:
                pid = pids.get(answer.seq)
                if pid is not None:
                    first_right.setdefault(pid, answer.received)
            settled_after = max(first_right.values()) - since
        return Sweep(
            answers=tuple(answers),
            pids=pids,
            wrong=wrong,
            settled_after=settled_after,
            last_wrong_after=wrong[-1].received - since if wrong else None,
        )

    def _settle_pids(self, answers: list[Answer]) -> dict[int, int]:
        # A worker logs a request just after answering it; give the last lines a moment.
        deadline = time.monotonic() + 1.0
        while any(self.pid_of(a.seq) is None for a in answers) and time.monotonic() < deadline:
            time.sleep(0.01)
        return {a.seq: pid for a in answers if (pid := self._pids.get(a.seq)) is not None}


@contextmanager
def running(
    log_dir: Path,
    *,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    **ports: int,
) -> Iterator[Gatekeeper]:
    """Gatekeeper in gunicorn; `database_port` / `redis_port` point it at a proxy, `env`
    adds to (or overrides) its environment."""
    gatekeeper = Gatekeeper({**gatekeeper_env(**ports), **(env or {})}, log_dir, workers=workers)
    try:
        gatekeeper.start()
        yield gatekeeper
    finally:
        gatekeeper.stop()
