from __future__ import annotations

import logging
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from clients import encryption, keys
from clients.models import Client, Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory

pytestmark = pytest.mark.django_db

NEW_KEY = re.compile(rb"gk_[a-z0-9]{8}_[A-Za-z0-9]{32}")
CLIENTS = reverse("admin:clients_client_changelist")
CREDENTIALS = reverse("admin:clients_credential_changelist")
NO_INLINE_ROWS = {
    "credentials-TOTAL_FORMS": "0",
    "credentials-INITIAL_FORMS": "0",
    "credentials-MIN_NUM_FORMS": "0",
    "credentials-MAX_NUM_FORMS": "1000",
}


def run_action(admin_client, action: str, *objects, url: str = CLIENTS):
    return admin_client.post(
        url, {"action": action, "_selected_action": [str(o.pk) for o in objects]}
    )


def secret_page(admin_client, response):
    """Follow the POST's redirect to the page that shows the new secrets once."""
    assert response.status_code == 302
    assert "/secret/" in response["Location"]
    return admin_client.get(response["Location"])


def assert_nowhere_after(admin_client, plaintext: str, credential: Credential) -> None:
    """After the shown-once page: no page, no table, no session, no message holds it."""
    pages = [
        CLIENTS,
        CREDENTIALS,
        reverse("admin:clients_client_change", args=[credential.client_id]),
        reverse("admin:clients_credential_change", args=[credential.pk]),
        reverse("admin:audit_auditevent_changelist"),
        f"{CREDENTIALS}?q={credential.prefix}",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert plaintext.encode() not in response.content, url
    dump = StringIO()
    call_command("dumpdata", stdout=dump)  # every table, sessions and admin log included
    assert plaintext not in dump.getvalue()
    assert plaintext not in str(dict(admin_client.session.items()))
    assert plaintext not in str(admin_client.cookies)


# --- clients ----------------------------------------------------------------------------------


def test_changelist_shows_live_credential_counts_without_a_query_per_client(admin_client):
    def make_client():
        client = ClientFactory()
        ApiKeyFactory.create_batch(2, client=client)
        ApiKeyFactory(client=client, revoked_at=timezone.now())
        ApiKeyFactory(client=client, expires_at=timezone.now() - timedelta(seconds=1))
        HmacSecretFactory(client=client)

    make_client()
    admin_client.get(CLIENTS)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as one:
        response = admin_client.get(CLIENTS)
    assert '<td class="field-live_credentials">2 / 1</td>' in response.content.decode()
    for _ in range(4):
        make_client()
    with CaptureQueriesContext(connection) as five:
        admin_client.get(CLIENTS)
    assert len(five) == len(one)


@pytest.mark.parametrize(
    ("query", "found"),
    [("acme", True), ("billing", True), ("other", False)],
)
def test_changelist_searches_name_and_description(admin_client, query, found):
    ClientFactory(name="acme", description="billing system")
    response = admin_client.get(CLIENTS, {"q": query})
    assert (b">acme<" in response.content) is found


def test_changelist_searches_by_id(admin_client):
    client = ClientFactory(name="by-id")
    response = admin_client.get(CLIENTS, {"q": str(client.pk)})
    assert b">by-id<" in response.content


def test_adding_a_client_goes_through_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:clients_client_add"),
        {"name": "new-client", "status": "active", "description": "", **NO_INLINE_ROWS},
    )
    assert response.status_code == 302
    client = Client.objects.get(name="new-client")
    event = AuditEvent.objects.get(action="client.created")
    assert event.actor == "user:admin"
    assert event.object_id == str(client.pk)


def test_adding_a_duplicate_name_shows_the_error_and_creates_nothing(admin_client):
    ClientFactory(name="acme")
    response = admin_client.post(
        reverse("admin:clients_client_add"),
        {"name": "ACME", "status": "active", "description": "", **NO_INLINE_ROWS},
    )
    assert response.status_code == 200
    assert b"A client with this name already exists." in response.content
    assert Client.objects.count() == 1


def test_editing_a_client_audits_the_name_and_the_status_change(admin_client):
    client = ClientFactory(name="before")
    response = admin_client.post(
        reverse("admin:clients_client_change", args=[client.pk]),
        {"name": "after", "status": "suspended", "description": "", **NO_INLINE_ROWS},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.name, client.status) == ("after", "suspended")
    updated = AuditEvent.objects.get(action="client.updated")
    assert updated.detail == {"name": {"from": "before", "to": "after"}}
    status = AuditEvent.objects.get(action="client.status_set")
    assert status.detail == {"from": "active", "to": "suspended"}


def test_the_change_page_shows_credentials_read_only_without_secrets(admin_client):
    client = ClientFactory()
    key = ApiKeyFactory(client=client, plaintext="legacy-key-shown-never", label="ci-runner")
    hmac = HmacSecretFactory(client=client, secret="hmac-secret-shown-never")
    response = admin_client.get(reverse("admin:clients_client_change", args=[client.pk]))
    content = response.content.decode()
    assert key.prefix in content
    assert "ci-runner" in content
    assert hmac.prefix in content
    for hidden in (
        "legacy-key-shown-never",
        key.digest,
        "hmac-secret-shown-never",
        hmac.secret_encrypted,
    ):
        assert hidden not in content
    assert 'name="credentials-0-label"' not in content  # no editable inline fields


def test_deleting_a_client_goes_through_the_service(admin_client):
    client = ClientFactory()
    ApiKeyFactory(client=client)
    response = admin_client.post(
        reverse("admin:clients_client_delete", args=[client.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Credential.objects.exists()
    event = AuditEvent.objects.get(action="client.deleted")
    assert event.detail["credentials"] == {"api_key": 1}


def test_bulk_delete_goes_through_the_service(admin_client):
    clients = ClientFactory.create_batch(2)
    response = admin_client.post(
        CLIENTS,
        {"action": "delete_selected", "_selected_action": [c.pk for c in clients], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Client.objects.exists()
    assert AuditEvent.objects.filter(action="client.deleted").count() == 2


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [("suspend", "active", "suspended"), ("reactivate", "revoked", "active")],
)
def test_status_actions(admin_client, action, start, end):
    clients = ClientFactory.create_batch(2, status=start)
    response = run_action(admin_client, action, *clients)
    assert response.status_code == 302
    assert set(Client.objects.values_list("status", flat=True)) == {end}
    assert AuditEvent.objects.filter(action="client.status_set").count() == 2


# --- secrets shown once -----------------------------------------------------------------------


def test_issue_api_key_shows_the_key_once_and_keeps_it_nowhere(admin_client, caplog):
    client = ClientFactory(name="acme")
    with caplog.at_level(logging.DEBUG):
        posted = run_action(admin_client, "issue_api_key", client)
        response = secret_page(admin_client, posted)
        assert response.status_code == 200
        assert "admin/clients/secret_once.html" in [t.name for t in response.templates]
        assert "no-store" in response["Cache-Control"]
        (plaintext,) = NEW_KEY.findall(response.content)
        plaintext = plaintext.decode()
        assert response.content.count(plaintext.encode()) == 1
        assert b"will not be shown again" in response.content
        assert b"acme" in response.content
        credential = Credential.objects.get(client=client)
        assert credential.digest == keys.digest(plaintext)
        # A reload shows nothing and issues nothing.
        again = admin_client.get(posted["Location"])
        assert again.status_code == 410
        assert b"already shown" in again.content
        assert plaintext.encode() not in again.content
        assert Credential.objects.filter(client=client).count() == 1
        assert_nowhere_after(admin_client, plaintext, credential)
    assert not [r for r in caplog.records if plaintext in r.getMessage()]
    assert AuditEvent.objects.get(action="credential.issued").actor == "user:admin"


def test_issue_hmac_secret_shows_the_secret_once_and_keeps_it_nowhere(admin_client, caplog):
    client = ClientFactory(name="signer")
    with caplog.at_level(logging.DEBUG):
        response = secret_page(admin_client, run_action(admin_client, "issue_hmac_secret", client))
        credential = Credential.objects.get(client=client)
        plaintext = encryption.unseal(credential.secret_encrypted)
        assert response.content.count(plaintext.encode()) == 1
        assert b"byteforge_hmac import HMACClient" in response.content
        assert str(client.pk).encode() in response.content  # HMAC clients sign with it
        assert "no-store" in response["Cache-Control"]
        assert_nowhere_after(admin_client, plaintext, credential)
    assert not [r for r in caplog.records if plaintext in r.getMessage()]


def test_issuing_for_several_clients_shows_each_key(admin_client):
    clients = ClientFactory.create_batch(3)
    response = secret_page(admin_client, run_action(admin_client, "issue_api_key", *clients))
    found = NEW_KEY.findall(response.content)
    assert len(set(found)) == 3
    digests = set(Credential.objects.values_list("digest", flat=True))
    assert digests == {keys.digest(key.decode()) for key in found}


def test_rotate_action_shows_the_new_key_and_when_the_old_one_stops(admin_client):
    client = ClientFactory()
    old = ApiKeyFactory(client=client)
    with override_settings(GATEKEEPER_ROTATION_GRACE=3600):
        response = secret_page(admin_client, run_action(admin_client, "rotate_api_keys", client))
    (plaintext,) = NEW_KEY.findall(response.content)
    old.refresh_from_db()
    assert timedelta(minutes=59) < old.expires_at - timezone.now() <= timedelta(hours=1)
    assert old.prefix.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    assert_nowhere_after(admin_client, plaintext.decode(), old)


def test_rotate_action_names_the_configured_grace(admin_client):
    with override_settings(GATEKEEPER_ROTATION_GRACE=7200):
        ClientFactory()
        response = admin_client.get(CLIENTS)
    assert b"Rotate API keys (2h grace)" in response.content


@override_settings(GATEKEEPER_SECRET_KEYS=[])
def test_a_failed_issue_shows_an_error_and_issues_nothing(admin_client):
    clients = ClientFactory.create_batch(2)
    response = run_action(admin_client, "issue_hmac_secret", *clients)
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("GATEKEEPER_SECRET_KEYS" in m for m in messages)
    assert not Credential.objects.exists()


def test_staff_without_credential_permission_cannot_issue(client):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(
        *AuthPermission.objects.filter(codename__in=["view_client", "change_client"])
    )
    client.force_login(user)
    target = ClientFactory()
    response = client.get(CLIENTS)
    assert b'value="issue_api_key"' not in response.content
    assert b'value="suspend"' in response.content
    run_action(client, "issue_api_key", target)
    assert not Credential.objects.exists()


def login_staff(client, *codenames: str) -> None:
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.add(*AuthPermission.objects.filter(codename__in=codenames))
    client.force_login(user)


def test_rotating_keys_needs_change_credential_not_only_add_credential(client):
    login_staff(client, "view_client", "change_client", "add_credential")
    target = ClientFactory()
    old = ApiKeyFactory(client=target)

    page = client.get(CLIENTS)
    assert b'value="issue_api_key"' in page.content
    assert b'value="rotate_api_keys"' not in page.content
    # Posted anyway (an old page, a script): refused by the server, not only hidden.
    run_action(client, "rotate_api_keys", target)

    old.refresh_from_db()
    assert old.expires_at is None
    assert list(target.credentials.all()) == [old]


def test_staff_who_may_add_and_change_credentials_can_rotate(client):
    login_staff(client, "view_client", "add_credential", "change_credential")
    target = ClientFactory()
    old = ApiKeyFactory(client=target)

    shown = client.get(run_action(client, "rotate_api_keys", target)["Location"])

    assert len(NEW_KEY.findall(shown.content)) == 1, "shown once, on the page it redirects to"
    old.refresh_from_db()
    assert old.expires_at is not None


# --- credentials ------------------------------------------------------------------------------


def test_credential_admin_is_read_only_and_never_shows_stored_secrets(admin_client):
    key = ApiKeyFactory(label="deploy-bot")
    hmac = HmacSecretFactory()
    assert admin_client.get(reverse("admin:clients_credential_add")).status_code == 403
    for credential, hidden in ((key, key.digest), (hmac, hmac.secret_encrypted)):
        url = reverse("admin:clients_credential_change", args=[credential.pk])
        response = admin_client.get(url)
        assert response.status_code == 200
        assert credential.prefix.encode() in response.content
        assert hidden.encode() not in response.content
        assert b'name="label"' not in response.content
        admin_client.post(url, {"label": "changed"})
        credential.refresh_from_db()
        assert credential.label != "changed"


def test_credential_changelist_selects_clients_in_the_same_query(admin_client):
    ApiKeyFactory()
    admin_client.get(CREDENTIALS)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(CREDENTIALS)
    ApiKeyFactory.create_batch(5)
    with CaptureQueriesContext(connection) as six:
        response = admin_client.get(CREDENTIALS)
    assert len(six) == len(one)
    assert response.content.count(b"legacy-test-key") == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "live"}, {"live", "hmac"}),
        ({"state": "expired"}, {"expired"}),
        ({"state": "revoked"}, {"revoked"}),
        ({"kind__exact": "hmac"}, {"hmac"}),
        ({"q": "findme"}, {"live"}),
    ],
)
def test_credential_filters(admin_client, params, expected):
    now = timezone.now()
    ApiKeyFactory(label="live", client=ClientFactory(name="findme"))
    ApiKeyFactory(label="expired", expires_at=now - timedelta(seconds=1))
    ApiKeyFactory(label="revoked", revoked_at=now)
    HmacSecretFactory(label="hmac")
    response = admin_client.get(CREDENTIALS, params)
    labels = {c.label for c in response.context["cl"].result_list}
    assert labels == expected


def test_revoke_action_revokes_through_the_service_and_skips_revoked_ones(admin_client):
    live = ApiKeyFactory()
    done = ApiKeyFactory(revoked_at=timezone.now() - timedelta(days=1))
    response = run_action(admin_client, "revoke", live, done, url=CREDENTIALS)
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.revoked_at is not None
    assert AuditEvent.objects.filter(action="credential.revoked").count() == 1
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "Revoked 1 credential(s); 1 already revoked." in messages
