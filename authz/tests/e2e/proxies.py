"""nginx and Caddy run from the configs in deploy/, for this test's ports.

The nginx config is a template with `${NAME}` placeholders (envsubst style, see its header);
`render` fills every one of them or fails. The Caddyfile reads Caddy's own `{$NAME}`
environment placeholders, so it runs unchanged. Either way the tests run the shipped files.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from authz.tests.live import ROOT, stop_process
from authz.tests.tcp_proxy import HOST, free_port

NGINX_CONF = ROOT / "deploy" / "nginx" / "gatekeeper.conf"
GATE_JS = ROOT / "deploy" / "nginx" / "gate.js"
CADDYFILE = ROOT / "deploy" / "caddy" / "Caddyfile"
START_TIMEOUT = 10.0
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


def render(template: Path, values: Mapping[str, str]) -> str:
    text = template.read_text()
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise ValueError(f"{template.name}: no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda match: values[match[1]], text)


class ProxyProcess:
    """A proxy in the foreground of its own process group; `port` is where it listens."""

    def __init__(self, name: str, command: list[str], port: int, log: Path, **env: str) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.log = log
        self.env = {**os.environ, **env}
        self._proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        """The process started (its group's id too: it leads a session of its own)."""
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self._proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
                self.command,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepts(self.port):
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not listen in time:\n{self.log_tail()}")
            time.sleep(0.02)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        stop_process(proc)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ProxyProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def nginx(
    directory: Path,
    *,
    gatekeeper_port: int,
    backend_port: int,
    edit: Callable[[str], str] | None = None,
) -> Iterator[ProxyProcess]:
    """deploy/nginx/gatekeeper.conf rendered into `directory` and run in the foreground.
    `edit` changes the rendered text (for a test about one directive)."""
    port = free_port()
    state = directory / "state"
    logs = directory / "logs"
    state.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    rendered = render(
        NGINX_CONF,
        {
            "LISTEN": f"{HOST}:{port}",
            "GATEKEEPER": f"{HOST}:{gatekeeper_port}",
            "BACKEND": f"{HOST}:{backend_port}",
            "GATE_JS": str(GATE_JS),
            "STATE_DIR": str(state),
            "LOG_DIR": str(logs),
            "CACHE_SALT": "test-salt-0123456789abcdef",
        },
    )
    conf_path = directory / "nginx.conf"
    conf_path.write_text(edit(rendered) if edit else rendered)
    # As root, nginx would run its workers as nobody, who cannot write temp files under the
    # test's private tmp_path.
    directives = "daemon off; user root;" if os.geteuid() == 0 else "daemon off;"
    command = [
        _binary("nginx"),
        "-p",
        str(directory),
        "-c",
        str(conf_path),
        "-e",
        str(logs / "error.log"),
        "-g",
        directives,
    ]
    with ProxyProcess("nginx", command, port, logs / "output.log") as process:
        yield process


@contextmanager
def caddy(directory: Path, *, gatekeeper_port: int, backend_port: int) -> Iterator[ProxyProcess]:
    """deploy/caddy/Caddyfile, run as shipped: its settings are Caddy's own {$VAR}
    placeholders, given here in the environment."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    command = [_binary("caddy"), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    with ProxyProcess(
        "caddy",
        command,
        port,
        directory / "caddy.log",
        SITE=f"http://:{port}",
        BIND=HOST,
        GATEKEEPER=f"{HOST}:{gatekeeper_port}",
        BACKEND=f"{HOST}:{backend_port}",
        # Caddy keeps state under the XDG dirs: not in the real home.
        XDG_DATA_HOME=str(directory / "data"),
        XDG_CONFIG_HOME=str(directory / "config"),
    ) as process:
        yield process


def error_log(process: ProxyProcess) -> str:
    path = process.log.parent / "error.log"
    return path.read_text(errors="replace") if path.exists() else ""


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed")
    return path
