"""The suite-wide secret scan (issue 6): no secret the suite issued may appear in a log line,
an audit row or a `/metrics` page produced during the suite.

Registered from the root conftest (`pytest_plugins`). It

- remembers the plaintext of every credential the suite issues: the one issuer in
  `clients.services` (issue, import, rotate), every HMAC secret sealed at rest (factories
  too), every key pepper used, every webhook signing secret generated and every REST API
  token. The functions are wrapped, not replaced: they run as always;
- reads every answer of the REST API (`/api/...`) made in the suite: it may hold only the
  secrets issued while that request ran (the one answer that shows a new secret);
- captures every log record of the session, from every logger and thread;
- before each database test's teardown, while its rows still exist, reads every audit row
  (configuration changes, decisions, admin history) and every webhook row (endpoints, event
  payloads, the delivery log with the receivers' answers);
- after each test, scans that test's log records and fails the test (an error at teardown)
  when any of it holds a secret issued so far;
- at the end, scans the records logged outside any test and every file of WRITTEN_FILES the
  suite's processes wrote under pytest's temporary directory (logs, audit spools, saved
  nonces), and fails the session on a hit.

`scan_text(text, source)` adds other output (a `/metrics` page) to the scan. Reports name where
a secret was found, never the secret. Values shorter than `MIN_LENGTH` are not looked for:
tests use short made-up secrets that would match by chance.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

MIN_LENGTH = 12
# Where the suite's secrets come from: the functions that see every plaintext.
ISSUERS = {
    "clients.services.credentials._new_credential": lambda result, args: result[1],
    "clients.encryption.seal": lambda result, args: args[0],
    # Every key pepper the suite hashes with (GATEKEEPER_KEY_PEPPERS): a server-side secret.
    "clients.keys._pepper_state": lambda result, args: args[0],
    "webhooks.signing.generate": lambda result, args: result,
    # The REST API's tokens (gka_...).
    "api.tokens.generate": lambda result, args: result[0],
}
# Answers of the REST API: a secret may be in the answer of the request that issued it, and in
# no other (issue 12).
API_PREFIX = "/api/"
# Rows that keep what requests carried: the audit trails, the admin's history, and
# django-axes' login attempts (which store the login page's query and form, password masked).
AUDIT_MODELS = (
    "audit.AuditEvent",
    "audit.DecisionRecord",
    "admin.LogEntry",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    # What webhooks store and send: payloads, the delivery log (a receiver's answer, errors),
    # the endpoints themselves (their secrets only sealed).
    "webhooks.Endpoint",
    "webhooks.Event",
    "webhooks.Delivery",
)
# Files the suite's servers write under pytest's temporary directory: logs (the decision
# server's, gunicorn's, nginx's, Caddy's), audit spool segments not yet copied, saved nonces.
WRITTEN_FILES = ("*.log", "*.jsonl", "nonces.json")
# Keys and imported credentials are printable ASCII without spaces, so a secret in a text lies
# within one such run at least MIN_LENGTH long.
_RUN = re.compile(rf"[!-~]{{{MIN_LENGTH},}}")
# Generated API keys: the random tail is a secret of its own; so is a webhook secret's
# base64 (what a receiver's library decodes).
_API_KEY = re.compile(r"gk_[a-z0-9]{8}_([A-Za-z0-9]{32})")
_WEBHOOK_SECRET = re.compile(r"whsec_([A-Za-z0-9+/=]{16,})")
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class Secrets:
    """The issued secrets, indexed by their first MIN_LENGTH characters, so a text is searched
    in one pass however many secrets there are."""

    def __init__(self) -> None:
        self._by_anchor: dict[str, set[str]] = {}
        self._odd: set[str] = set()  # anything outside printable ASCII (hypothesis input)
        self._lock = threading.Lock()

    def add(self, value: object) -> None:
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return
        values = [value]
        if match := _API_KEY.fullmatch(value) or _WEBHOOK_SECRET.fullmatch(value):
            values.append(match[1])
        with self._lock:
            for secret in values:
                if _RUN.fullmatch(secret):
                    self._by_anchor.setdefault(secret[:MIN_LENGTH], set()).add(secret)
                else:
                    self._odd.add(secret)

    def found_in(self, text: str, allowed: frozenset[str] = frozenset()) -> bool:
        """Whether `text` holds a secret other than those in (or part of one of) `allowed`."""
        if len(text) < MIN_LENGTH:
            return False

        def counts(secret: str) -> bool:
            return not any(secret in ok for ok in allowed)

        by_anchor = self._by_anchor
        for run in _RUN.finditer(text):
            chunk = run[0]
            for start in range(len(chunk) - MIN_LENGTH + 1):
                candidates = by_anchor.get(chunk[start : start + MIN_LENGTH])
                if candidates and any(chunk.startswith(c, start) and counts(c) for c in candidates):
                    return True
        return any(secret in text and counts(secret) for secret in self._odd)


class _Capture(logging.Handler):
    """Keeps the text of every record (message, exception, stack and extra fields) until the
    next scan."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter())
        self._pending: list[tuple[str, str]] = []
        self._pending_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args}"
        parts = [message]
        if record.exc_info:
            parts.append(self.formatter.formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
        if extra:
            parts.append(repr(extra))
        with self._pending_lock:
            self._pending.append((record.name, "\n".join(parts)))

    def take(self) -> list[tuple[str, str]]:
        with self._pending_lock:
            pending, self._pending = self._pending, []
        return pending


class _Scan:
    def __init__(self) -> None:
        self.secrets = Secrets()
        self.capture = _Capture()
        self.hits: list[str] = []  # every hit of the session, for the summary
        self._unreported: list[str] = []  # hits not yet failed in a test
        self.basetemp: Callable[[], Path] | None = None

    def hit(self, source: str) -> None:
        self.hits.append(source)
        self._unreported.append(source)

    def text(self, text: str, source: str, allowed: frozenset[str] = frozenset()) -> None:
        if self.secrets.found_in(text, allowed):
            self.hit(source)

    def logs(self, where: str) -> None:
        for logger, text in self.capture.take():
            self.text(text, f"a log record of {logger!r} ({where})")

    def take_unreported(self) -> list[str]:
        unreported, self._unreported = self._unreported, []
        return unreported


_scan = _Scan()


def scan_text(text: str, source: str) -> None:
    """Look for the suite's secrets in `text`; a hit fails the running test (or the session),
    naming `source`."""
    _scan.text(text, source)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _scan_audit_rows(where: str) -> None:
    from django.apps import apps
    from django.db import DatabaseError, transaction

    for label in AUDIT_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        try:
            with transaction.atomic():
                rows = list(model._default_manager.values())
        except DatabaseError:
            # The test left its transaction broken on purpose (it tested a database error);
            # its rows are gone with it.
            return
        for row in rows:
            if any(_scan.secrets.found_in(text) for text in _strings(row)):
                _scan.hit(f"{label} row {row['id']} ({where})")


_SET_UP = pytest.StashKey[bool]()


def _uses_database(item: pytest.Item) -> bool:
    """Whether the test's database fixtures are up (not when it was skipped or its setup
    failed)."""
    if not item.stash.get(_SET_UP, False):
        return False
    return item.get_closest_marker("django_db") is not None or "_django_db_helper" in getattr(
        item, "fixturenames", ()
    )


# The secrets issued while the current thread serves an API request (None: no request).
_request = threading.local()


def _recording(original: Callable[..., Any], plaintext: Callable[[Any, tuple], Any]) -> Callable:
    @functools.wraps(original)
    def issue(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        value = plaintext(result, args)
        _scan.secrets.add(value)
        issued = getattr(_request, "issued", None)
        if issued is not None and isinstance(value, str):
            issued.add(value)
        return result

    return issue


def _scanning_api(original: Callable[..., Any]) -> Callable:
    @functools.wraps(original)
    def get_response(handler: Any, request: Any) -> Any:
        if not request.path.startswith(API_PREFIX):
            return original(handler, request)
        _request.issued = set()
        try:
            response = original(handler, request)
        finally:
            allowed, _request.issued = frozenset(_request.issued), None
        if not getattr(response, "streaming", False):
            text = response.content.decode("utf-8", errors="replace")
            headers = "\n".join(f"{name}: {value}" for name, value in response.items())
            where = f"the API answer to {request.method} {request.path}"
            _scan.text(f"{headers}\n{text}", where, allowed)
        return response

    return get_response


@pytest.fixture(scope="session", autouse=True)
def _record_issued_secrets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    import pkgutil

    _scan.basetemp = tmp_path_factory.getbasetemp
    from django.core.handlers.base import BaseHandler

    patches = [
        mock.patch(target, new=_recording(pkgutil.resolve_name(target), plaintext))
        for target, plaintext in ISSUERS.items()
    ]
    patches.append(
        mock.patch.object(BaseHandler, "get_response", _scanning_api(BaseHandler.get_response))
    )
    for patch in patches:
        patch.start()
    yield
    for patch in reversed(patches):
        patch.stop()


def pytest_sessionstart(session: pytest.Session) -> None:
    # pytest-django has configured Django, and so its LOGGING, by now: a handler added earlier
    # would have been removed by dictConfig.
    logging.getLogger().addHandler(_scan.capture)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    result = yield
    item.stash[_SET_UP] = True
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    where = f"in {item.nodeid}"
    if _uses_database(item):
        _scan_audit_rows(where)
    try:
        result = yield
    except BaseException:
        # The teardown failed already; the hits still fail the session.
        _scan.logs(where)
        _scan.take_unreported()
        raise
    _scan.logs(where)
    hits = _scan.take_unreported()
    if hits:
        pytest.fail(_report(hits), pytrace=False)
    return result


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _scan.logs("outside any test")
    if _scan.basetemp is not None:
        for pattern in WRITTEN_FILES:
            for path in sorted(_scan.basetemp().rglob(pattern)):
                _scan.text(path.read_text(errors="replace"), f"the file {path}")
    if _scan.hits and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _scan.hits:
        terminalreporter.section("secret scan", red=True, bold=True)
        terminalreporter.line(_report(_scan.hits))


def _report(sources: Iterable[str]) -> str:
    found = "\n".join(f"  - {source}" for source in sources)
    return f"an issued secret was found in:\n{found}"
