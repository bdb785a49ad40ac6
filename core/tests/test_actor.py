"""Who the audit trail names for a command (issue 9, item 15): the OS account the process runs
as, from its uid, and not only $LOGNAME, which anyone can set."""

from __future__ import annotations

import os
import pwd
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from clients.tests.factories import ClientFactory
from core.actor import Actor

LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")
UID = os.getuid()
ACCOUNT = pwd.getpwuid(UID).pw_name


def claim(monkeypatch, name: str) -> None:
    for variable in LOGIN_VARIABLES:
        monkeypatch.setenv(variable, name)


def test_a_claimed_login_name_is_shown_next_to_the_real_account(monkeypatch):
    claim(monkeypatch, "mallory")
    assert str(Actor.cli("set_client_status")) == (
        f"cli:mallory(uid={UID} {ACCOUNT})/set_client_status"
    )


def test_an_honest_login_name_is_shown_once_with_the_uid(monkeypatch):
    claim(monkeypatch, ACCOUNT)
    assert str(Actor.cli("grant")) == f"cli:{ACCOUNT}(uid={UID})/grant"


def test_a_long_claimed_name_is_cut(monkeypatch):
    claim(monkeypatch, "x" * 500)
    assert len(Actor.cli("grant").name) < 100


@pytest.mark.django_db
def test_the_audit_row_of_a_command_names_the_account_behind_a_false_logname(monkeypatch):
    ClientFactory(name="acme")
    claim(monkeypatch, "mallory")

    call_command("set_client_status", "acme", "suspended", stdout=StringIO())

    actor = AuditEvent.objects.get(action="client.status_set").actor
    assert actor == f"cli:mallory(uid={UID} {ACCOUNT})/set_client_status"
