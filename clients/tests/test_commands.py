from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from clients import encryption, keys
from clients.models import Client, Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory

pytestmark = pytest.mark.django_db

NEW_KEY = re.compile(r"gk_[a-z0-9]{8}_[A-Za-z0-9]{32}")
WARNING = "it will not be shown again"


def run(*args: str, stdin: str | None = None) -> str:
    out = StringIO()
    extra = {"stdin": StringIO(stdin)} if stdin is not None else {}
    call_command(*args, stdout=out, **extra)
    return out.getvalue()


def fails(*args: str, stdin: str | None = None) -> str:
    """Run a command that must fail; return its one-line error."""
    with pytest.raises(CommandError) as excinfo:
        run(*args, stdin=stdin)
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def hmac_secret_in(output: str, credential: Credential) -> str:
    secret = encryption.unseal(credential.secret_encrypted)
    assert output.count(secret) == 1
    return secret


# --- create_client ----------------------------------------------------------------------------


def test_create_client_creates_it_and_prints_its_id():
    output = run("create_client", "--name", "acme", "--description", "Acme Corp")
    client = Client.objects.get(name="acme")
    assert str(client.pk) in output
    assert client.description == "Acme Corp"
    assert AuditEvent.objects.get(action="client.created").actor.startswith("cli:")
    assert WARNING not in output


def test_create_client_with_credentials_prints_each_secret_once_with_a_warning():
    output = run("create_client", "--name", "acme", "--api-key", "--hmac")
    client = Client.objects.get(name="acme")
    (key,) = NEW_KEY.findall(output)
    assert client.credentials.get(kind="api_key").digest == keys.digest(key)
    hmac_secret_in(output, client.credentials.get(kind="hmac"))
    assert output.count(WARNING) == 2


def test_create_client_keeps_a_given_id_and_status():
    client_id = uuid.uuid4()
    run("create_client", "--name", "signer", "--id", str(client_id), "--status", "suspended")
    client = Client.objects.get(pk=client_id)
    assert (client.name, client.status) == ("signer", "suspended")


def test_create_client_dry_run_creates_nothing_and_prints_no_secret():
    output = run("create_client", "--name", "acme", "--api-key", "--hmac", "--dry-run")
    assert not Client.objects.exists()
    assert not Credential.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not NEW_KEY.search(output)
    assert WARNING not in output
    assert "nothing was changed" in output


def test_create_client_imports_a_legacy_key_from_stdin_without_printing_it():
    output = run("create_client", "--name", "acme", "--import-key-stdin", stdin="old-key-0001\n")
    credential = Credential.objects.get(client__name="acme")
    assert credential.digest == keys.peppered_digest("old-key-0001")
    assert "old-key-0001" not in output
    assert WARNING not in output


def test_create_client_with_a_duplicate_imported_key_rolls_back_the_client_too():
    ApiKeyFactory(plaintext="old-key-0001")
    message = fails(
        "create_client", "--name", "acme", "--api-key", "--import-key-stdin", stdin="old-key-0001"
    )
    assert message == "key: This API key is already in use."
    assert not Client.objects.filter(name="acme").exists()
    assert Credential.objects.count() == 1
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--name", "taken"], "already exists"),
        (["--name", "TAKEN"], "already exists"),
        (["--name", "bad name"], "letters, digits"),
        (["--name", "x", "--status", "paused"], "invalid choice"),
        (["--name", "x", "--id", "not-a-uuid"], "invalid UUID value"),
        (["--description", "no name"], "--name"),
    ],
)
def test_create_client_bad_input_is_a_one_line_error(args, expected):
    ClientFactory(name="taken")
    assert expected in fails("create_client", *args)
    assert Client.objects.count() == 1


def test_create_client_with_an_id_in_use_is_an_error():
    existing = ClientFactory()
    fails("create_client", "--name", "other", "--id", str(existing.pk))
    assert Client.objects.count() == 1


# --- list_clients -----------------------------------------------------------------------------


def test_list_clients_shows_live_credential_counts_by_kind():
    acme = ClientFactory(name="acme")
    ApiKeyFactory.create_batch(2, client=acme)
    ApiKeyFactory(client=acme, revoked_at=timezone.now())
    HmacSecretFactory(client=acme)
    ClientFactory(name="quiet", status=Client.Status.SUSPENDED)
    output = run("list_clients")
    assert f"acme  {acme.pk}  active  api_keys=2  hmac=1" in output
    assert "quiet" in output


def test_list_clients_json_and_status_filter():
    acme = ClientFactory(name="acme")
    HmacSecretFactory(client=acme)
    ClientFactory(name="quiet", status=Client.Status.SUSPENDED)
    rows = json.loads(run("list_clients", "--json", "--status", "active"))
    assert rows == [
        {
            "name": "acme",
            "id": str(acme.pk),
            "status": "active",
            "live_api_keys": 0,
            "live_hmac_secrets": 1,
        }
    ]


def test_list_clients_with_none():
    assert run("list_clients") == "No clients.\n"
    assert json.loads(run("list_clients", "--json")) == []


# --- delete_client and set_client_status ------------------------------------------------------


def test_delete_client_removes_it_with_its_credentials():
    client = ClientFactory(name="gone")
    ApiKeyFactory.create_batch(2, client=client)
    output = run("delete_client", "GONE")
    assert "2 credential(s)" in output
    assert not Client.objects.exists()
    assert not Credential.objects.exists()


def test_delete_client_dry_run_keeps_everything():
    ApiKeyFactory(client=ClientFactory(name="stays"))
    run("delete_client", "stays", "--dry-run")
    assert Client.objects.filter(name="stays").exists()
    assert Credential.objects.count() == 1


@pytest.mark.parametrize("command", ["delete_client", "rotate_credentials"])
def test_an_unknown_client_is_a_one_line_error(command):
    assert "nobody" in fails(command, "nobody")


def test_set_client_status_changes_it_by_name_or_id():
    client = ClientFactory(name="acme")
    assert "active -> suspended" in run("set_client_status", "acme", "suspended")
    run("set_client_status", str(client.pk), "revoked")
    client.refresh_from_db()
    assert client.status == Client.Status.REVOKED
    assert "already revoked" in run("set_client_status", "acme", "revoked")


def test_set_client_status_dry_run_and_bad_status():
    ClientFactory(name="acme")
    run("set_client_status", "acme", "suspended", "--dry-run")
    assert Client.objects.get().status == Client.Status.ACTIVE
    assert "invalid choice" in fails("set_client_status", "acme", "paused")


# --- issue_credential -------------------------------------------------------------------------


def test_issue_credential_prints_a_new_api_key_once():
    client = ClientFactory(name="acme")
    output = run("issue_credential", "acme", "--kind", "api_key", "--label", "ci")
    (key,) = NEW_KEY.findall(output)
    credential = client.credentials.get()
    assert (credential.digest, credential.label) == (keys.digest(key), "ci")
    assert output.count(WARNING) == 1


def test_issue_credential_prints_a_new_hmac_secret_with_an_expiry():
    client = ClientFactory()
    output = run("issue_credential", client.name, "--kind", "hmac", "--expires-in", "90d")
    credential = client.credentials.get()
    hmac_secret_in(output, credential)
    expected = timezone.now() + timedelta(days=90)
    assert abs(credential.expires_at - expected) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("flag", "kind", "value"),
    [
        ("--import-key-stdin", "api_key", "legacy-0001"),
        ("--import-secret-stdin", "hmac", "s3cr3t-v4lue"),
    ],
)
def test_issue_credential_imports_from_stdin_and_never_prints_the_value(flag, kind, value):
    client = ClientFactory()
    output = run("issue_credential", client.name, "--kind", kind, flag, stdin=f"{value}\n")
    credential = client.credentials.get()
    if kind == "api_key":
        assert credential.digest == keys.peppered_digest(value)
    else:
        assert encryption.unseal(credential.secret_encrypted) == value
    assert value not in output
    assert "Imported" in output


def test_issue_credential_dry_run_saves_nothing_and_prints_no_secret():
    client = ClientFactory()
    output = run("issue_credential", client.name, "--kind", "api_key", "--dry-run")
    assert not Credential.objects.exists()
    assert not NEW_KEY.search(output)
    assert WARNING not in output


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["--kind", "password"], None, "invalid choice"),
        (["--kind", "api_key", "--expires-in", "soon"], None, "not a duration"),
        (["--kind", "hmac", "--import-key-stdin"], "legacy-0001", "needs --kind api_key"),
        (["--kind", "api_key", "--import-secret-stdin"], "secret-0001", "needs --kind hmac"),
        (["--kind", "api_key", "--import-key-stdin"], "has space inside", "printable ASCII"),
        (["--kind", "api_key", "--import-key-stdin"], "", "empty"),
    ],
)
def test_issue_credential_bad_input_is_a_one_line_error(args, stdin, expected):
    client = ClientFactory()
    message = fails("issue_credential", client.name, *args, stdin=stdin)
    assert expected in message
    if stdin:
        assert stdin not in message
    assert not Credential.objects.exists()


def test_importing_a_key_in_use_is_refused():
    ApiKeyFactory(plaintext="legacy-0001", client=ClientFactory(name="holder"))
    client = ClientFactory()
    message = fails(
        "issue_credential", client.name, "--kind", "api_key", "--import-key-stdin",
        stdin="legacy-0001",
    )  # fmt: skip
    assert message == "key: This API key is already in use."


# --- rotate and revoke ------------------------------------------------------------------------


def test_rotate_credentials_prints_the_new_key_and_when_the_old_one_stops():
    client = ClientFactory()
    old = ApiKeyFactory(client=client)
    output = run("rotate_credentials", client.name, "--grace", "2h")
    (key,) = NEW_KEY.findall(output)
    old.refresh_from_db()
    assert f"{old.prefix} working until {old.expires_at.isoformat()}" in output
    assert abs(old.expires_at - (timezone.now() + timedelta(hours=2))) < timedelta(minutes=1)
    assert client.credentials.get(digest=keys.digest(key)).is_live()


@override_settings(GATEKEEPER_ROTATION_GRACE=600)
def test_rotate_credentials_takes_the_default_grace_from_settings():
    client = ClientFactory()
    old = HmacSecretFactory(client=client)
    output = run("rotate_credentials", client.name, "--kind", "hmac")
    old.refresh_from_db()
    assert abs(old.expires_at - (timezone.now() + timedelta(minutes=10))) < timedelta(minutes=1)
    new = client.credentials.exclude(pk=old.pk).get()
    hmac_secret_in(output, new)


def test_rotate_credentials_dry_run_changes_nothing_and_prints_no_secret():
    client = ClientFactory()
    old = ApiKeyFactory(client=client)
    output = run("rotate_credentials", client.name, "--dry-run")
    old.refresh_from_db()
    assert old.expires_at is None
    assert client.credentials.count() == 1
    assert not NEW_KEY.search(output)


@pytest.mark.parametrize(
    ("args", "expected"), [(["--grace", "1 day"], "not a duration"), (["--kind", "x"], "choice")]
)
def test_rotate_credentials_bad_input(args, expected):
    client = ClientFactory()
    assert expected in fails("rotate_credentials", client.name, *args)


def test_revoke_credential_by_prefix_or_id():
    first = ApiKeyFactory(plaintext="first-key-0001")
    second = HmacSecretFactory()
    assert first.prefix in run("revoke_credential", "--prefix", first.prefix)
    run("revoke_credential", "--id", str(second.pk))
    assert Credential.objects.filter(revoked_at__isnull=True).count() == 0


def test_revoke_credential_with_an_ambiguous_prefix_lists_ids_and_nothing_secret():
    first = ApiKeyFactory(plaintext="dupe-key-000000000001")
    second = ApiKeyFactory(plaintext="dupe-key-000000000002")
    message = fails("revoke_credential", "--prefix", "dupe")
    assert str(first.pk) in message
    assert str(second.pk) in message
    assert "dupe-key-000" not in message
    assert first.digest not in message
    assert not Credential.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--prefix", "gk_unknown"], "No credential"),
        (["--id", "999999"], "No credential"),
        (["--id", "x"], "invalid int value"),
        ([], "one of the arguments"),
    ],
)
def test_revoke_credential_bad_input(args, expected):
    assert expected in fails("revoke_credential", *args)


def test_revoke_credential_twice_and_dry_run():
    credential = ApiKeyFactory()
    run("revoke_credential", "--id", str(credential.pk), "--dry-run")
    assert Credential.objects.get().revoked_at is None
    run("revoke_credential", "--id", str(credential.pk))
    assert "already revoked" in fails("revoke_credential", "--id", str(credential.pk))


# --- reencrypt_secrets ------------------------------------------------------------------------
