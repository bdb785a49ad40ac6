"""The benchmark's nginx (bench/servers.py): the shipped config with the same few changes in
every row, and nginx accepts every variant."""

from __future__ import annotations

import os
import subprocess

import pytest

from authz.tests.e2e.proxies import GATE_JS, NGINX_CONF, render
from bench.servers import front_edit


def rendered(tmp_path, **variant) -> str:
    text = render(
        NGINX_CONF,
        {
            "LISTEN": "127.0.0.1:18080",
            "GATEKEEPER": "127.0.0.1:18081",
            "BACKEND": "127.0.0.1:9",
            "GATE_JS": str(GATE_JS),
            "STATE_DIR": str(tmp_path),
            "LOG_DIR": str(tmp_path),
            "CACHE_SALT": "salt",
        },
    )
    return front_edit(tmp_path / "static", **variant)(text)


def test_every_row_gets_one_worker_no_access_log_and_a_static_answer(tmp_path):
    conf = rendered(tmp_path)
    assert "worker_processes 1;" in conf
    assert "access_log off;" in conf
    assert f"root {tmp_path / 'static'}; try_files /ok.txt =404;" in conf
    assert conf.count("auth_request /_gatekeeper;") == 1
    assert "\n            proxy_cache gk_decisions;" not in conf


@pytest.mark.parametrize(
    ("variant", "text", "change"),
    [
        # Row A: nothing asked.
        ({"auth": False}, "auth_request /_gatekeeper;", -1),
        # Row B: the auth location answers itself (the body-signed location still asks).
        ({"ask": False}, "proxy_pass http://gatekeeper/authz;", -1),
        ({"ask": False}, "return 204;", +1),
        ({"cache": True}, "# proxy_cache gk_decisions;", -1),
    ],
)
def test_each_variant_changes_its_one_thing(tmp_path, variant, text, change):
    assert rendered(tmp_path, **variant).count(text) == rendered(tmp_path).count(text) + change


@pytest.mark.needs("nginx")
@pytest.mark.parametrize("variant", [{}, {"auth": False}, {"ask": False}, {"cache": True}])
def test_nginx_accepts_every_variant(tmp_path, variant):
    path = tmp_path / "nginx.conf"
    path.write_text(rendered(tmp_path, **variant))
    directives = "daemon off; user root;" if os.geteuid() == 0 else "daemon off;"
    argv = ["nginx", "-t", "-p", str(tmp_path), "-c", str(path), "-e", str(tmp_path / "e.log")]
    done = subprocess.run(  # noqa: S603 - our own fixed command line
        [*argv, "-g", directives],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
