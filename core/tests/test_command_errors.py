"""Command errors never repeat a value that may be a credential (issue 9, item 6).

A key pasted into the wrong argument (a status, a kind, a client name, a prefix, an id, an
extra word) must not come back in the error, which lands in terminals, CI logs and tickets.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clients.tests.factories import ClientFactory
from core.tests.processes import run_manage_py
from permissions.tests.factories import PermissionFactory, route_with_methods

GENERATED = "gk_abcd1234_S3cretS3cretS3cretS3cretS3cretZ9"
LEGACY = "Legacy-Shared-Secret-0042"
# The part of each value that must never be shown (a generated key's prefix is public).
SECRET_PART = {GENERATED: GENERATED[12:], LEGACY: LEGACY}

COMMANDS = [
    ("set_client_status", "acme", "{v}"),
    ("set_client_status", "acme", "suspended", "{v}"),
    ("list_clients", "--status", "{v}"),
    ("issue_credential", "acme", "--kind", "{v}"),
    ("issue_credential", "{v}", "--kind", "api_key"),
    ("issue_credential", "acme", "--kind", "api_key", "--expires-in", "{v}"),
    ("delete_client", "{v}"),
    ("rotate_credentials", "{v}"),
    ("rotate_credentials", "acme", "--kind", "{v}"),
    ("revoke_credential", "--prefix", "{v}"),
    ("revoke_credential", "--id", "{v}"),
    ("create_client", "--name", "new", "--id", "{v}"),
    ("create_client", "--name", "new", "--status", "{v}"),
    ("grant", "--client", "{v}", "--pattern", "/api/x", "--methods", "GET"),
    ("grant", "--client", "acme", "--pattern", "/api/x", "--methods", "{v}"),
    ("revoke", "--client", "acme", "--pattern", "/api/x", "--methods", "{v}"),
    ("set_rate_limit", "--client", "acme", "--limit", "5", "--window", "{v}"),
    ("set_rate_limit", "--client", "acme", "--limit", "{v}", "--window", "minute"),
    ("create_route", "--pattern", "/x", "--method", "{v}"),
    ("create_route", "--pattern", "/x", "--method", "GET:{v}"),
    ("apply_config", "-", "--format", "{v}"),
]


def _echoes(message: str, secret: str, window: int = 12) -> bool:
    return any(secret[i : i + window] in message for i in range(len(secret) - window + 1))


@pytest.fixture
def world(db):
    acme = ClientFactory(name="acme")
    route = route_with_methods("GET", pattern="/api/x")
    PermissionFactory(client=acme, route=route, methods="GET")


@pytest.mark.parametrize("value", [GENERATED, LEGACY], ids=["generated", "legacy"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args))
def test_a_key_in_the_wrong_argument_is_not_repeated_in_the_error(world, args, value):
    argv = [arg.format(v=value) for arg in args]
    with pytest.raises(CommandError) as excinfo:
        call_command(*argv, stdout=StringIO(), stderr=StringIO())
    message = str(excinfo.value)
    assert not _echoes(message, SECRET_PART[value]), message
    assert len(message) < 400


def test_a_whole_key_given_as_a_prefix_is_answered_with_its_prefix(world):
    with pytest.raises(CommandError, match="pass only its prefix gk_abcd1234"):
        call_command("revoke_credential", "--prefix", GENERATED, stdout=StringIO())


def test_short_values_are_still_quoted_so_typos_are_easy_to_spot(world):
    with pytest.raises(CommandError, match="'sleep'"):
        call_command("set_client_status", "acme", "sleep", stdout=StringIO())


def test_usage_errors_on_the_command_line_do_not_repeat_the_key(tmp_path):
    for argv in (["set_client_status", "acme", GENERATED], ["delete_client", "a", GENERATED]):
        result = run_manage_py(*argv, scratch=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "usage:" in result.stderr
        assert not _echoes(result.stdout + result.stderr, SECRET_PART[GENERATED])
