"""Admin logins cannot be guessed without limit (issue 9, item 8): django-axes through the
real login form, per username and per address, audited, visible in the admin, and with the
client's address taken correctly behind a proxy."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from audit.actions import LOGIN_LOCKED_OUT
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
PASSWORD = "correct horse battery staple"
WRONG = "Tr0ub4dor&3-wrong-guess"
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit():
    with override_settings(AXES_FAILURE_LIMIT=LIMIT):
        yield


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("alice", password=PASSWORD, is_staff=True, is_superuser=True)


def log_in(username: str, password: str, *, peer: str = "127.0.0.1", forwarded: str = ""):
    """Post the admin's own login form, as a browser would (CSRF checks on)."""
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=peer)
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    form = browser.get(LOGIN, **extra)
    token = form.cookies["csrftoken"].value
    response = browser.post(
        LOGIN,
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        },
        **extra,
    )
    return response


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_a_right_password_works_before_the_limit(staff):
    for _ in range(LIMIT - 1):
        assert log_in("alice", WRONG).status_code == 200
    assert logged_in(log_in("alice", PASSWORD))


def test_a_username_is_locked_from_every_address_after_the_limit(staff):
    for _ in range(LIMIT):
        log_in("alice", WRONG, peer="198.51.100.1")
    locked = log_in("alice", PASSWORD, peer="198.51.100.1")
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert log_in("alice", PASSWORD, peer="198.51.100.2").status_code == 429
    # Other staff are not locked out with her.
    User.objects.create_user("bob", password=PASSWORD, is_staff=True)
    assert logged_in(log_in("bob", PASSWORD, peer="198.51.100.2"))


def test_an_address_is_locked_for_every_username_after_the_limit(staff):
    for n in range(LIMIT):
        log_in(f"guess{n}", WRONG, peer="203.0.113.7")
    assert log_in("alice", PASSWORD, peer="203.0.113.7").status_code == 429
    assert logged_in(log_in("alice", PASSWORD, peer="203.0.113.8"))


def test_a_lockout_is_audited_once_and_never_with_the_password(staff, admin_client):
    for _ in range(LIMIT + 3):
        log_in("alice", WRONG, peer="198.51.100.9")
    (event,) = AuditEvent.objects.filter(action=LOGIN_LOCKED_OUT)
    assert event.actor == "system:axes"
    assert event.detail["username"] == "alice"
    assert event.detail["ip_address"] == "198.51.100.9"
    stored = [str(row) for row in AuditEvent.objects.values()]
    stored += [str(row) for row in AccessAttempt.objects.values()]
    assert not any(WRONG in text for text in stored)
    # Staff see the attempts in the admin.
    page = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert page.status_code == 200
    assert b"198.51.100.9" in page.content


def test_behind_a_trusted_proxy_the_address_is_the_one_it_appended(staff):
    # nginx on loopback appends the client's address; anything before it is the client's own.
    for _ in range(LIMIT):
        log_in("mallory", WRONG, forwarded="10.9.9.9, 198.51.100.20")
    attempt = AccessAttempt.objects.get(username="mallory")
    assert attempt.ip_address == "198.51.100.20"
    # Another client behind the same proxy is not locked out with mallory's address...
    assert logged_in(log_in("alice", PASSWORD, forwarded="198.51.100.21"))
    # ... and a spoofed first entry does not escape the lock.
    assert log_in("alice", PASSWORD, forwarded="10.1.1.1, 198.51.100.20").status_code == 429


def test_a_peer_that_is_no_proxy_cannot_choose_its_address(staff):
    for _ in range(LIMIT):
        log_in("mallory", WRONG, peer="203.0.113.50", forwarded="198.51.100.77")
    assert AccessAttempt.objects.get(username="mallory").ip_address == "203.0.113.50"


def test_direct_use_from_loopback_without_a_proxy_header_works(staff):
    assert logged_in(log_in("alice", PASSWORD, peer="127.0.0.1"))
    log_in("alice", WRONG, peer="127.0.0.1")
    assert AccessAttempt.objects.get(username="alice").ip_address == "127.0.0.1"


def test_a_key_in_a_failed_logins_query_is_not_stored(staff):
    from authz.tests.conftest import ACTOR
    from clients.services import create_client, issue_api_key

    key = issue_api_key(create_client(name="lost", actor=ACTOR), actor=ACTOR).plaintext
    browser = Client(REMOTE_ADDR="198.51.100.60")
    browser.post(f"{LOGIN}?api_key={key}", {"username": "alice", "password": WRONG})
    attempt = AccessAttempt.objects.get(username="alice")
    assert key not in attempt.get_data
    assert "api_key=" in attempt.get_data
