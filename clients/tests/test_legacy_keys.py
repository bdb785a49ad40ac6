"""Imported legacy keys (issue 9, item 7): stored under a keyed hash with a server-side pepper,
never shown in part when short, warned about at import; every stored form still authenticates.
"""

from __future__ import annotations

import re
import textwrap
import time
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from authz.build import build_snapshot
from authz.engine import RequestFacts, decide
from authz.reasons import Detail, Reason
from clients import keys, services
from clients.models import Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory
from core.actor import Actor
from permissions.tests.factories import PermissionFactory, route_with_methods

ACTOR = Actor.system("test")
OLD_PEPPER = "old-pepper-0123456789-0123456789-0123456789"
NEW_PEPPER = "new-pepper-9876543210-9876543210-9876543210"
SHORT = "Pa55word9"  # 9 characters, as in the report
LONG = "Legacy-Long-Key-0123456789-abcdef"
PEPPERED = re.compile(r"hmac-sha256\$([0-9a-f]{8})\$[0-9a-f]{64}")


@pytest.fixture
def acme(db):
    return ClientFactory(name="acme")


def present(key: str) -> tuple[Reason, Detail | None]:
    """Ask the decision engine, with the configuration as stored now."""
    facts = RequestFacts("GET", "api.example.com", "/api/x", api_key_header=key)
    decision = decide(facts, build_snapshot(None), time.time(), nonces=None)
    return decision.reason, decision.detail


def test_an_imported_key_is_stored_under_a_keyed_hash_that_names_its_pepper(acme):
    with override_settings(GATEKEEPER_KEY_PEPPERS=[NEW_PEPPER, OLD_PEPPER]):
        issued = services.issue_api_key(acme, plaintext=LONG, actor=ACTOR)

    digest = Credential.objects.get(pk=issued.credential.pk).digest
    match = PEPPERED.fullmatch(digest)
    assert match, digest
    assert digest != keys.digest(LONG)
    # Hashed with the first pepper, and named by it.
    with override_settings(GATEKEEPER_KEY_PEPPERS=[NEW_PEPPER]):
        assert keys.peppered_digest(LONG) == digest
    with override_settings(GATEKEEPER_KEY_PEPPERS=[OLD_PEPPER]):
        assert PEPPERED.fullmatch(keys.peppered_digest(LONG))[1] != match[1]


def test_generated_keys_stay_plain_sha256(acme):
    issued = services.issue_api_key(acme, actor=ACTOR)
    assert Credential.objects.get().digest == keys.digest(issued.plaintext)


def test_every_stored_form_authenticates_and_peppers_rotate(acme):
    route = route_with_methods("GET", pattern="/api/x")
    PermissionFactory(client=acme, route=route, methods="GET")
    # Stored before peppers existed: unsalted SHA-256.
    ApiKeyFactory(client=acme, plaintext="legacy-sha256-key-0001")
    with override_settings(GATEKEEPER_KEY_PEPPERS=[OLD_PEPPER]):
        services.issue_api_key(acme, plaintext="imported-under-old-pepper", actor=ACTOR)
    generated = services.issue_api_key(acme, actor=ACTOR).plaintext

    # A new pepper goes first; the old one stays after it.
    with override_settings(GATEKEEPER_KEY_PEPPERS=[NEW_PEPPER, OLD_PEPPER]):
        services.issue_api_key(acme, plaintext="imported-under-new-pepper", actor=ACTOR)
        for key in (
            "legacy-sha256-key-0001",
            "imported-under-old-pepper",
            "imported-under-new-pepper",
            generated,
        ):
            assert present(key) == (Reason.AUTHENTICATED, None), key
        assert present("imported-under-NEW-pepper") == (
            Reason.INVALID_CREDENTIALS,
            Detail.UNKNOWN_CREDENTIAL,
        )
    # Without the pepper it was imported under, a peppered key is unknown: the pepper is
    # what an attacker holding only the database lacks.
    with override_settings(GATEKEEPER_KEY_PEPPERS=[NEW_PEPPER]):
        assert present("imported-under-old-pepper")[1] == Detail.UNKNOWN_CREDENTIAL


@given(key=st.text(min_size=1, max_size=600))
def test_a_presented_key_always_costs_one_digest_per_form(key):
    with override_settings(GATEKEEPER_KEY_PEPPERS=[NEW_PEPPER, OLD_PEPPER]):
        digests = keys.lookup_digests(key)
    assert len(digests) == 3
    assert digests[0] == keys.digest(key)
    assert len(set(digests)) == 3


@pytest.mark.parametrize("key", [SHORT, "abcdefgh", "x" * 19])
def test_a_short_key_shows_no_part_of_itself(acme, key):
    issued = services.issue_api_key(acme, plaintext=key, actor=ACTOR)

    prefix = Credential.objects.get().prefix
    assert re.fullmatch(r"legacy_[0-9a-f]{8}", prefix)
    assert key[:4] not in prefix
    assert key[:4] not in str(issued.credential)


def test_a_long_legacy_key_keeps_its_first_four_characters_as_prefix(acme):
    services.issue_api_key(acme, plaintext=LONG, actor=ACTOR)
    assert Credential.objects.get().prefix == LONG[:4]


@given(key=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=19))
def test_the_display_prefix_of_any_short_key_is_random(key):
    assert re.fullmatch(r"legacy_[0-9a-f]{8}", keys.display_prefix(key))


def test_importing_a_short_key_warns_in_the_services_answer(acme):
    issued = services.issue_api_key(acme, plaintext=SHORT, actor=ACTOR)
    (warning,) = issued.warnings
    assert "9 characters" in warning
    assert "rotate_credentials" in warning
    assert SHORT not in warning
    assert services.issue_api_key(acme, plaintext=LONG, actor=ACTOR).warnings == ()


def test_importing_a_short_key_warns_on_the_command_line(acme):
    out = StringIO()
    call_command(
        "issue_credential", "acme", "--kind", "api_key", "--import-key-stdin",
        stdin=StringIO(SHORT + "\n"), stdout=out,
    )  # fmt: skip
    assert "Warning: this key is only 9 characters long" in out.getvalue()
    assert SHORT not in out.getvalue()


def test_importing_a_short_key_warns_in_the_config_file_output(acme, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            clients:
              - name: acme
                credentials: [{{kind: api_key, key: "{SHORT}"}}]
            """
        )
    )
    out = StringIO()
    call_command("apply_config", str(path), stdout=out)
    assert (
        "clients[0].credentials[0]: Warning: this key is only 9 characters long" in out.getvalue()
    )
    assert SHORT not in out.getvalue()


@override_settings(GATEKEEPER_KEY_PEPPERS=[])
def test_importing_without_a_pepper_is_refused_everywhere(acme, tmp_path):
    with pytest.raises(ValidationError, match="GATEKEEPER_KEY_PEPPERS"):
        services.issue_api_key(acme, plaintext=LONG, actor=ACTOR)
    with pytest.raises(CommandError, match="GATEKEEPER_KEY_PEPPERS"):
        call_command(
            "issue_credential", "acme", "--kind", "api_key", "--import-key-stdin",
            stdin=StringIO(LONG), stdout=StringIO(),
        )  # fmt: skip
    path = tmp_path / "config.yaml"
    path.write_text(
        f'clients:\n  - {{name: acme, credentials: [{{kind: api_key, key: "{LONG}"}}]}}\n'
    )
    with pytest.raises(CommandError, match=r"clients\[0\]\.credentials\[0\]: .*GATEKEEPER_KEY_PEP"):
        call_command("apply_config", str(path), stdout=StringIO())
    assert not Credential.objects.exists()
    # Generated keys need no pepper.
    assert services.issue_api_key(acme, actor=ACTOR).credential.digest.startswith("sha256$")


def test_a_key_stored_under_sha256_cannot_be_imported_again_under_a_pepper(acme):
    ApiKeyFactory(client=acme, plaintext=LONG)
    with pytest.raises(ValidationError, match="already in use"):
        services.issue_api_key(ClientFactory(), plaintext=LONG, actor=ACTOR)
