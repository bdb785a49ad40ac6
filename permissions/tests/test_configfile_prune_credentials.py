"""apply_config --prune and credentials (issue 9, item 14): the credentials a client entry lists
are the client's whole set, so a key replaced in the file stops working; re-applying the same
file changes nothing and prints no new key.
"""

from __future__ import annotations

import re
import textwrap
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from authz.build import build_snapshot
from authz.engine import RequestFacts, decide
from clients import services as clients
from clients.models import Client, Credential
from clients.tests.factories import HmacSecretFactory
from core.actor import Actor
from permissions.tests.factories import PermissionFactory, route_with_methods

pytestmark = pytest.mark.django_db

OLD_KEY = "old-legacy-key-0123456789-abcdef"
NEW_KEY = "new-legacy-key-0123456789-abcdef"
GENERATED = re.compile(r"gk_[a-z0-9]{8}_[A-Za-z0-9]{32}")


def config(*credentials: str) -> str:
    return textwrap.dedent(
        f"""\
        clients:
          - name: acme
            credentials: [{", ".join(credentials)}]
        """
    )


@pytest.fixture
def apply(tmp_path):
    def run(text: str, *flags: str) -> str:
        path = tmp_path / "config.yaml"
        path.write_text(text)
        out = StringIO()
        call_command("apply_config", str(path), *flags, stdout=out)
        return out.getvalue()

    return run


def authenticates(key: str) -> bool:
    route = route_with_methods("GET", pattern=f"/api/{time.monotonic_ns()}")
    PermissionFactory(client=Client.objects.get(name="acme"), route=route, methods="GET")
    facts = RequestFacts("GET", "h.example", route.pattern, api_key_header=key)
    return decide(facts, build_snapshot(None), time.time(), nonces=None).allowed


def live(kind: str = "api_key") -> list[Credential]:
    return list(Credential.objects.live().filter(kind=kind))


def test_a_key_replaced_in_the_file_is_revoked_under_prune(apply):
    apply(config(f"{{kind: api_key, key: {OLD_KEY}}}"))
    old = Credential.objects.get()

    out = apply(config(f"{{kind: api_key, key: {NEW_KEY}}}"), "--prune")

    assert f"- credential acme api_key {old.prefix} (revoke)" in out.splitlines()
    assert not authenticates(OLD_KEY)
    assert authenticates(NEW_KEY)
    event = AuditEvent.objects.get(action="credential.revoked")
    assert event.object_id == str(old.pk)
    assert event.actor.startswith("cli:")


def test_the_dry_run_shows_the_revocation_and_changes_nothing(apply):
    apply(config(f"{{kind: api_key, key: {OLD_KEY}}}"))
    old = Credential.objects.get()

    out = apply(config(f"{{kind: api_key, key: {NEW_KEY}}}"), "--prune", "--dry-run")

    assert f"- credential acme api_key {old.prefix} (revoke)" in out
    assert "Would apply: 1 created, 0 updated, 1 deleted" in out
    assert live() == [old]


def test_without_prune_the_replaced_key_is_left_alone_and_counted(apply):
    apply(config(f"{{kind: api_key, key: {OLD_KEY}}}"))

    out = apply(config(f"{{kind: api_key, key: {NEW_KEY}}}"))

    assert "Left alone 1 object(s) the file does not name (--prune deletes them)." in out
    assert authenticates(OLD_KEY)


def test_generated_credentials_are_matched_by_kind_and_label_so_a_reapply_changes_nothing(apply):
    text = config("{kind: api_key}", "{kind: api_key, label: ci}", "{kind: hmac}")
    first = apply(text, "--prune")
    assert len(GENERATED.findall(first)) == 2

    again = apply(text, "--prune")

    assert again == "No changes.\n"
    assert not GENERATED.search(again)
    assert len(live("api_key")) == 2
    assert len(live("hmac")) == 1


def test_after_a_rotation_prune_keeps_the_newest_key_of_an_entry(apply):
    apply(config("{kind: api_key}"), "--prune")
    acme = Client.objects.get(name="acme")
    rotated = clients.rotate_credentials(
        acme, kind="api_key", grace=timedelta(hours=1), actor=Actor.system("test")
    )
    (old,) = rotated.retiring

    out = apply(config("{kind: api_key}"), "--prune")

    assert out.splitlines()[0] == f"- credential acme api_key {old.prefix} (revoke)"
    assert not GENERATED.search(out)
    assert live() == [rotated.credential]


def test_a_credential_made_outside_the_file_is_revoked_and_a_new_label_generated(apply):
    apply(config("{kind: api_key}"), "--prune")
    acme = Client.objects.get(name="acme")
    by_hand = clients.issue_api_key(acme, label="by-hand", actor=Actor.system("test"))
    secret = HmacSecretFactory(client=acme)

    out = apply(config("{kind: api_key, label: ci}"), "--prune")

    assert len(GENERATED.findall(out)) == 1
    assert {c.label for c in live()} == {"ci"}
    assert not live("hmac")
    assert not authenticates(by_hand.plaintext)
    secret.refresh_from_db()
    assert secret.revoked_at is not None


def test_an_imported_value_is_matched_before_entries_without_a_value(apply):
    text = config(f"{{kind: api_key, key: {OLD_KEY}}}", "{kind: api_key}")
    apply(text, "--prune")

    assert apply(text, "--prune") == "No changes.\n"
    assert len(live()) == 2
    assert authenticates(OLD_KEY)
