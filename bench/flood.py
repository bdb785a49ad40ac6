"""A bounded flood of failed admin logins: `threads` loops, each posting a wrong password to
the admin's login form as fast as the admin answers.

Every attempt names a username of its own that does not exist, so Django still runs the
password hasher (it hashes anyway, so timing does not reveal which users exist): this is the
expensive path a real credential-stuffing flood takes. django-axes would lock the address out
after a few failures and answer the rest cheaply, which would flatter the result, so the admin
runs with GATEKEEPER_LOGIN_FAILURE_LIMIT high enough never to lock (bench/run.py).
"""

from __future__ import annotations

import http.client
import re
import threading
from collections import Counter
from urllib.parse import urlencode

from authz.tests.tcp_proxy import HOST

LOGIN = "/admin/login/"
TIMEOUT = 30.0
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class LoginFlood:
    """`with LoginFlood(port, threads) as flood:` floods while inside; `statuses` counts the
    admin's answers (200: the form again, wrong password; 429: locked out)."""

    def __init__(self, port: int, threads: int) -> None:
        self.port = port
        self.statuses: Counter[int | str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._started = threading.Barrier(threads + 1)
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"flood-{n}", daemon=True)
            for n in range(threads)
        ]

    def __enter__(self) -> LoginFlood:
        for thread in self._threads:
            thread.start()
        # Every thread holds its form and cookie before the measurement starts.
        self._started.wait(TIMEOUT)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(TIMEOUT)

    @property
    def attempts(self) -> int:
        return sum(self.statuses.values())

    def _count(self, status: int | str) -> None:
        with self._lock:
            self.statuses[status] += 1

    def _run(self, number: int) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
        try:
            cookie, token = self._form(conn)
        except (OSError, http.client.HTTPException, RuntimeError) as exc:
            self._count(f"no login form: {exc}")
            self._started.wait(TIMEOUT)
            return
        self._started.wait(TIMEOUT)
        attempt = 0
        while not self._stop.is_set():
            attempt += 1
            body = urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "username": f"flood-{number}-{attempt}",
                    "password": "not-the-password",
                    "next": "/admin/",
                }
            )
            try:
                conn.request(
                    "POST",
                    LOGIN,
                    body=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": cookie,
                    },
                )
                response = conn.getresponse()
                response.read()
                self._count(response.status)
            except (OSError, http.client.HTTPException) as exc:
                self._count(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
        conn.close()

    @staticmethod
    def _form(conn: http.client.HTTPConnection) -> tuple[str, str]:
        """The CSRF cookie and the form's token, from one GET of the login page."""
        conn.request("GET", LOGIN)
        response = conn.getresponse()
        page = response.read().decode()
        cookies = [
            value.split(";", 1)[0]
            for name, value in response.getheaders()
            if name.lower() == "set-cookie"
        ]
        found = _TOKEN.search(page)
        if response.status != 200 or found is None or not cookies:
            raise RuntimeError(f"the admin's login page answered {response.status} without a form")
        return "; ".join(cookies), found[1]
