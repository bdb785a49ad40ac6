"""Gatekeeper as production runs it, for tests that need real processes.

`running()` starts the decision server (`python -m authz.serve`: granian, several workers) on a
free loopback port against the test's own database and Redis, waits until it answers and
always stops it. A plain request goes over a new TCP connection, so any worker may take it.
To know which worker answered, a test asks through `Pinned` connections: kept-alive
connections, each of which learned its worker's pid from `/health` (a connection stays with
the worker that accepted it). `sweep` uses one per worker. (`tcp_proxy.TcpProxy` cuts the
server's path to PostgreSQL or Redis.)
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
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
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


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
        # Every test request comes from 127.0.0.1: no per-source sampling of denials, so
        # each one is logged and recorded (tests of the cap set their own rate).
        "GATEKEEPER_AUDIT_DENY_RATE": "1000000",
    }


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Whether `check()` came true within `timeout` seconds (asked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


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
    pid: int | None = None  # the worker, when asked through a pinned connection

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
    wrong: tuple[Answer, ...]
    # Seconds from `since` until every worker had answered right (after the last wrong answer),
    # or None when that did not happen before the deadline.
    settled_after: float | None
    last_wrong_after: float | None

    def workers(self) -> set[int]:
        return {a.pid for a in self.answers if a.pid is not None}

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
        counts = Counter((a.pid, a.status, a.reason) for a in self.answers)
        return ", ".join(
            f"pid {p} {s} {r}: {n}" for (p, s, r), n in sorted(counts.items(), key=str)
        )


class Pinned:
    """A kept-alive connection to one worker, which told us its pid."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.pid: int | None = None

    def request(self, path: str, headers: Mapping[str, str]) -> tuple[int, dict, bytes]:
        self.conn.request("GET", path, headers=dict(headers))
        response = self.conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def close(self) -> None:
        self.conn.close()


class Gatekeeper:
    """One decision server; its output goes to `log_dir`."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, *, workers: int = 2) -> None:
        self.workers = workers
        self.port = free_port()
        # Its own spool, lock and metrics files.
        self.env = {"GATEKEEPER_STATE_DIR": str(log_dir / f"state-{self.port}"), **env}
        self.output = log_dir / f"decisions-{self.port}.log"
        self._proc: subprocess.Popen | None = None
        # Probes may come from several threads; next() on a count is atomic.
        self._seq = itertools.count(1)
        self._local = threading.local()
        self._pinned: dict[int, Pinned] = {}

    @property
    def master_pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "authz.serve",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
        ]
        with self.output.open("ab") as output:
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
                raise RuntimeError(f"the decision server exited at start:\n{self.log_tail()}")
            try:
                self.get("/health")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the decision server did not answer within {START_TIMEOUT}s:\n"
                        f"{self.log_tail()}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.unpin()
        proc, self._proc = self._proc, None
        stop_process(proc)

    def signal(self, signum: int) -> None:
        """Send a signal to the master (SIGHUP: reload the workers)."""
        assert self._proc is not None
        os.kill(self._proc.pid, signum)

    def log_tail(self, lines: int = 40) -> str:
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def get(
        self, path: str, headers: Mapping[str, str] | None = None, *, timeout: float = 10.0
    ) -> Answer:
        """One request: through the pinned connection `sweep` chose, else a new connection."""
        seq = next(self._seq)
        pinned: Pinned | None = getattr(self._local, "pinned", None)
        if pinned is not None:
            try:
                status, got, body = pinned.request(path, headers or {})
            except (OSError, http.client.HTTPException):
                self._forget(pinned)
                raise
            return Answer(seq, status, got, body, time.monotonic(), pinned.pid)
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={**(headers or {}), "Connection": "close"})
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

    def pinned(self, *, timeout: float = 10.0) -> list[Pinned]:
        """One kept-alive connection per worker (opening connections until each worker took
        one, within `timeout`)."""
        deadline = time.monotonic() + timeout
        attempts = 0
        while len(self._pinned) < self.workers and time.monotonic() < deadline:
            attempts += 1
            candidate = Pinned(self.port)
            try:
                _, _, body = candidate.request("/health", {})
                pid = json.loads(body)["worker"]
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                candidate.close()
                time.sleep(0.05)
                continue
            if pid in self._pinned:
                candidate.close()
                # Connections land on whichever worker accepts first: try again shortly.
                time.sleep(0.01 if attempts < 50 else 0.05)
                continue
            candidate.pid = pid
            self._pinned[pid] = candidate
        return list(self._pinned.values())

    def unpin(self) -> None:
        """Close the pinned connections (the next `pinned()` finds the workers afresh)."""
        for pinned in list(self._pinned.values()):
            self._forget(pinned)

    @contextmanager
    def through(self, pinned: Pinned) -> Iterator[None]:
        """Requests made by this thread inside the block go through `pinned`."""
        self._local.pinned = pinned
        try:
            yield
        finally:
            self._local.pinned = None

    def _forget(self, pinned: Pinned) -> None:
        pinned.close()
        if pinned.pid is not None and self._pinned.get(pinned.pid) is pinned:
            del self._pinned[pinned.pid]

    def sweep(
        self,
        ask: Callable[[], Answer],
        right: Callable[[Answer], bool],
        *,
        timeout: float = 5.0,
        since: float | None = None,
    ) -> Sweep:
        """Ask through every worker in turn until each has answered right since the last
        wrong answer.

        `settled_after` is measured from `since` (default: now) to the first right answer of
        the worker that came right last: an upper bound on when every worker was right.
        """
        since = time.monotonic() if since is None else since
        deadline = time.monotonic() + timeout
        answers: list[Answer] = []
        streak_from = 0
        settled = False
        while time.monotonic() < deadline and not settled:
            for pinned in self.pinned(timeout=max(0.1, deadline - time.monotonic())):
                try:
                    with self.through(pinned):
                        answer = ask()
                except (OSError, http.client.HTTPException):
                    continue  # a worker that went away; the next round pins its successor
                answers.append(answer)
                if not right(answer):
                    streak_from = len(answers)
                streak_pids = {a.pid for a in answers[streak_from:]}
                if len(streak_pids) >= self.workers:
                    settled = True
                    break
        wrong = tuple(a for a in answers if not right(a))
        settled_after = None
        if settled:
            first_right: dict[int, float] = {}
            for answer in answers[streak_from:]:
                if answer.pid is not None:
                    first_right.setdefault(answer.pid, answer.received)
            settled_after = max(first_right.values()) - since
        return Sweep(
            answers=tuple(answers),
            wrong=wrong,
            settled_after=settled_after,
            last_wrong_after=wrong[-1].received - since if wrong else None,
        )


@contextmanager
def running(
    log_dir: Path,
    *,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    **ports: int,
) -> Iterator[Gatekeeper]:
    """The decision server; `database_port` / `redis_port` point it at a proxy, `env` adds to
    (or overrides) its environment."""
    gatekeeper = Gatekeeper({**gatekeeper_env(**ports), **(env or {})}, log_dir, workers=workers)
    try:
        gatekeeper.start()
        yield gatekeeper
    finally:
        gatekeeper.stop()
