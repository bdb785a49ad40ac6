"""The processes of the HTTP benchmark, each in a session (and process group) of its own, all
started before the first row and stopped after the last.

Deciders: an nginx answering 204 (row B), Gatekeeper's decision server (PostgreSQL + Redis,
SQLite, the 10,000-route dataset), a bare Django view and the seed-style decider on gunicorn
as deploy/gunicorn.conf.py sets it, a trivial WSGI app on gunicorn and granian, and the admin
(for the login flood). In front of each, deploy/nginx/gatekeeper.conf rendered as the tests
render it (authz/tests/e2e/proxies.py) with these changes, the same for every row:

- `worker_processes 1`: one nginx worker, so rows compare deciders, not nginx's scaling;
- `access_log off`: at 100,000 requests a second the log is the disk's benchmark, not ours;
- the protected location serves a small static file instead of proxying to a backend (the
  allowed request's own cost is nginx's, and the same in every row);
- row A drops `auth_request`; the cached rows turn the decision cache on (its one line).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from authz.tests.e2e.proxies import ProxyProcess, nginx
from authz.tests.tcp_proxy import HOST, free_port

ROOT = Path(__file__).resolve().parents[1]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
STATIC_FILE = "ok.txt"
READY_TIMEOUT = 60.0
# The shipped config needs a backend address (and row A and B a Gatekeeper address) that
# nothing is ever sent to (see above).
UNUSED_PORT = 9
CACHE_LINE = "# proxy_cache gk_decisions;"
WORKERS = 2

RESPONDER_CONF = """
worker_processes 1;
pid {state}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {state}/client_body;
    proxy_temp_path {state}/proxy;
    fastcgi_temp_path {state}/fastcgi;
    uwsgi_temp_path {state}/uwsgi;
    scgi_temp_path {state}/scgi;
    keepalive_requests 1000000;
    server {{
        listen {listen};
        location / {{ return 204; }}
    }}
}}
"""


@dataclass(frozen=True)
class Running:
    name: str
    port: int
    pgid: int  # the process group whose CPU a row charges to this server


def _replace_once(text: str, old: str, new: str) -> str:
    if old not in text:
        raise ValueError(f"deploy/nginx/gatekeeper.conf no longer has {old.strip()!r}")
    return text.replace(old, new, 1)


def front_edit(
    static_dir: Path, *, auth: bool = True, ask: bool = True, cache: bool = False
) -> Callable[[str], str]:
    """The benchmark's changes to the rendered shipped config (module docstring); without
    `ask`, the auth subrequest's location answers 204 itself (row B)."""

    def edit(conf: str) -> str:
        conf = _replace_once(conf, "worker_processes auto;", "worker_processes 1;")
        conf, logs = re.subn(r"access_log \S+ gatekeeper;", "access_log off;", conf)
        if logs != 1:
            raise ValueError("deploy/nginx/gatekeeper.conf: expected one access_log line")
        # The first proxy_pass to the backend is the protected location's.
        conf = _replace_once(
            conf,
            "proxy_pass http://backend;",
            f"root {static_dir}; try_files /{STATIC_FILE} =404;",
        )
        if not auth:
            conf = _replace_once(conf, "auth_request /_gatekeeper;", "")
        elif not ask:
            # The first proxy_pass to Gatekeeper is the auth_request location's.
            conf = _replace_once(conf, "proxy_pass http://gatekeeper/authz;", "return 204;")
        if cache:
            conf = _replace_once(conf, CACHE_LINE, CACHE_LINE.removeprefix("# "))
        return conf

    return edit


def wait_http(port: int, path: str, statuses: frozenset[int] | None, what: str) -> None:
    """Until GET `path` answers (with one of `statuses`, when given)."""
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", path)
            status = conn.getresponse().status
            if statuses is None or status in statuses:
                return
            last = f"status {status}"
        except (OSError, http.client.HTTPException) as exc:
            last = type(exc).__name__
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready on port {port}: {last}")


class Fleet:
    """Every process of one benchmark run; `close()` stops them all."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.servers: dict[str, Running] = {}
        self.fronts: dict[str, Running] = {}
        self._stack = ExitStack()
        self.static = directory / "static"
        self.static.mkdir(parents=True, exist_ok=True)
        (self.static / STATIC_FILE).write_text("ok\n")

    def close(self) -> None:
        self._stack.close()

    def _own(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _start(self, process: ProxyProcess) -> int:
        self._stack.enter_context(process)
        assert process.pid is not None
        return process.pid

    def responder(self, name: str) -> Running:
        """An nginx answering every request with 204 (row B's decider)."""
        own = self._own(name)
        port = free_port()
        conf = own / "nginx.conf"
        conf.write_text(RESPONDER_CONF.format(state=own, listen=f"{HOST}:{port}"))
        directives = "daemon off; user root;" if os.geteuid() == 0 else "daemon off;"
        command = [_binary("nginx"), "-p", str(own), "-c", str(conf), "-e", str(own / "error.log")]
        process = ProxyProcess(name, [*command, "-g", directives], port, own / "output.log")
        running = Running(name, port, self._start(process))
        self.servers[name] = running
        return running

    def python(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        *,
        ready: str,
        ready_statuses: frozenset[int] | None = None,
    ) -> Running:
        """A Python server: `argv` after `python -m`, with `{host}`, `{port}` and `{bind}`
        (host:port) replaced by its address."""
        own = self._own(name)
        port = free_port()
        places = {"{bind}": f"{HOST}:{port}", "{host}": HOST, "{port}": str(port)}
        command = [sys.executable, "-m", *(places.get(a, a) for a in argv)]
        env = {
            **env,
            "GATEKEEPER_STATE_DIR": str(own / "state"),
            "PROMETHEUS_MULTIPROC_DIR": str(own / "state" / "metrics"),
        }
        process = ProxyProcess(name, command, port, own / "output.log", **env)
        pgid = self._start(process)
        try:
            wait_http(port, ready, ready_statuses, name)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{process.log_tail()}") from None
        running = Running(name, port, pgid)
        self.servers[name] = running
        return running

    def front(
        self, name: str, upstream: str | None, *, auth: bool = True, cache: bool = False
    ) -> Running:
        """deploy/nginx/gatekeeper.conf asking server `upstream` (None: nobody)."""
        process = self._stack.enter_context(
            nginx(
                self._own(f"front-{name}"),
                gatekeeper_port=self.servers[upstream].port if upstream else UNUSED_PORT,
                backend_port=UNUSED_PORT,
                edit=front_edit(self.static, auth=auth, ask=upstream is not None, cache=cache),
            )
        )
        assert process.pid is not None
        running = Running(name, process.port, process.pid)
        self.fronts[name] = running
        return running


def gunicorn_argv(app: str, *, conf: bool, worker_class: str = "gthread") -> list[str]:
    """gunicorn as deploy/gunicorn.conf.py sets it (`conf`), or bare with WORKERS workers and
    no access log (the server comparison)."""
    if conf:
        return ["gunicorn", "--config", str(GUNICORN_CONF), "--bind", "{bind}", app]
    threads = ["--threads", "4"] if worker_class == "gthread" else []
    return [
        "gunicorn",
        "--worker-class",
        worker_class,
        "--workers",
        str(WORKERS),
        *threads,
        "--no-control-socket",
        "--bind",
        "{bind}",
        app,
    ]


def granian_argv(app: str) -> list[str]:
    return [
        "granian",
        "--interface",
        "wsgi",
        "--workers",
        str(WORKERS),
        "--no-ws",
        "--host",
        "{host}",
        "--port",
        "{port}",
        app,
    ]


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed")
    return path
