"""apply_config: the database ends up as the file says, through the services, all or nothing."""

from __future__ import annotations

import re
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from clients import encryption, keys
from clients.models import Client, Credential
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory
from permissions.models import Permission, RateLimit
from permissions.tests.factories import PermissionFactory, RateLimitFactory, route_with_methods
from routes.models import Route

pytestmark = pytest.mark.django_db

FULL = """
routes:
  - domain: "*"
    pattern: /api/data/*
    service: data-api
    methods: {GET: api_key, POST: hmac, OPTIONS: public}
clients:
  - name: acme
    credentials:
      - {kind: api_key}
    rate_limits:
      - {limit: 100, window: minute}
    permissions:
      - {pattern: /api/data/*, methods: [GET, POST]}
"""


@pytest.fixture
def apply(tmp_path):
    """Run apply_config on `text` (YAML unless `name` says otherwise); return its output."""

    def run(text: str, *flags: str, name: str = "config.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        out = StringIO()
        call_command("apply_config", str(path), *flags, stdout=out)
        return out.getvalue()

    return run


def database_state() -> dict[str, list]:
    """Everything apply_config may touch, for before/after comparisons."""
    return {
        "routes": list(Route.objects.values()),
        "methods": list(Route.objects.values("methods__method", "methods__auth")),
        "clients": list(Client.objects.values()),
        "credentials": list(Credential.objects.values()),
        "permissions": list(Permission.objects.values()),
        "rate_limits": list(RateLimit.objects.values()),
        "audit": list(AuditEvent.objects.values_list("pk", flat=True)),
    }


def generated_secrets(output: str) -> list[str]:
    return re.findall(r"^  \S+ \(id [0-9a-f-]+\) \S+(?: \[\S+\])?: (\S+)$", output, re.M)


def test_apply_creates_what_the_file_names_through_the_audited_services(apply):
    out = apply(FULL)

    assert out.splitlines()[:6] == [
        "+ route */api/data/* (GET:api_key, POST:hmac, OPTIONS:public)",
        "+ client acme (active)",
        "+ credential acme api_key (generated)",
        "+ permission acme */api/data/* (GET, POST)",
        "+ rate limit acme per minute on all routes (limit 100)",
        "Applied: 5 created, 0 updated, 0 deleted, 0 unchanged",
    ]
    route = Route.objects.get()
    assert (route.service_name, route.method_rules()) == (
        "data-api",
        {"GET": "api_key", "POST": "hmac", "OPTIONS": "public"},
    )
    acme = Client.objects.get(name="acme")
    assert Permission.objects.get(client=acme, route=route).methods == "GET,POST"
    assert RateLimit.objects.get(client=acme, route=None).limit == 100
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "route.created",
        "client.created",
        "credential.issued",
        "permission.granted",
        "ratelimit.set",
        "config.applied",
    }
    assert all(
        actor.startswith("cli:") for actor in AuditEvent.objects.values_list("actor", flat=True)
    )


def test_a_second_apply_reports_no_changes_and_writes_no_audit_row(apply):
    apply(FULL)
    audit_rows = AuditEvent.objects.count()

    assert apply(FULL) == "No changes.\n"
    assert AuditEvent.objects.count() == audit_rows


def test_generated_secrets_are_printed_once_under_a_warning(apply):
    out = apply(FULL)

    assert "shown only now and cannot be shown again" in out
    (plaintext,) = generated_secrets(out)
    assert Credential.objects.get().digest == keys.digest(plaintext)
    assert plaintext not in apply(FULL)


def test_dry_run_prints_the_diff_changes_nothing_and_shows_no_secret(apply):
    before = database_state()

    out = apply(FULL, "--dry-run")

    assert "+ credential acme api_key (generated)" in out
    assert out.endswith(
        "Would apply: 5 created, 0 updated, 0 deleted, 0 unchanged\nDry run: nothing was changed.\n"
    )
    assert "gk_" not in out
    assert database_state() == before


def test_the_diff_shows_each_created_updated_and_deleted_object(apply):
    old = route_with_methods("GET", pattern="/api/old/*")
    acme = ClientFactory(name="acme")
    PermissionFactory(client=acme, route=old, methods="GET")

    out = apply(
        """
        routes:
          - {pattern: /api/x, methods: {GET: api_key}}
        clients:
          - {name: acme, status: suspended}
        """,
        "--prune",
    )

    assert out.splitlines() == [
        "- permission acme */api/old/*",
        "- route */api/old/*",
        "+ route */api/x (GET:api_key)",
        "~ client acme: status active -> suspended",
        "Applied: 1 created, 1 updated, 2 deleted, 0 unchanged",
    ]
    acme.refresh_from_db()
    assert acme.status == "suspended"
    assert list(Route.objects.values_list("pattern", flat=True)) == ["/api/x"]


def test_route_methods_are_replaced_as_a_whole_set(apply):
    route_with_methods("GET", "POST", "DELETE", pattern="/api/x", service_name="")

    out = apply("routes:\n  - {pattern: /api/x, methods: {GET: any, PUT: hmac}}\n")

    assert out.splitlines()[0] == (
        "~ route */api/x: methods GET:api_key, POST:api_key, DELETE:api_key -> GET:any, PUT:hmac"
    )
    assert Route.objects.get().method_rules() == {"GET": "any", "PUT": "hmac"}


def test_permission_and_rate_limit_changes_replace_the_old_values(apply):
    apply(FULL)

    out = apply(
        FULL.replace("methods: [GET, POST]", "methods: [GET]").replace("limit: 100", "limit: 250")
    )

    assert out.splitlines() == [
        "~ permission acme */api/data/*: methods GET, POST -> GET",
        "~ rate limit acme per minute on all routes: limit 100 -> 250",
        "Applied: 0 created, 2 updated, 0 deleted, 3 unchanged",
    ]
    assert Permission.objects.get().methods == "GET"
    assert RateLimit.objects.get().limit == 250


def test_without_prune_unnamed_objects_are_left_alone_and_counted(apply):
    apply(FULL)
    acme = Client.objects.get(name="acme")
    extra = route_with_methods("GET", pattern="/api/extra")
    PermissionFactory(client=acme, route=extra, methods="GET")
    RateLimitFactory(client=acme, window="day", limit=5000)
    ClientFactory(name="bystander")

    out = apply(FULL)

    assert out == (
        "No changes.\nLeft alone 4 object(s) the file does not name (--prune deletes them).\n"
    )
    assert (Route.objects.count(), Client.objects.count(), Permission.objects.count()) == (2, 2, 2)


def test_prune_deletes_unnamed_objects_and_revokes_unlisted_credentials(apply):
    apply(FULL)
    acme = Client.objects.get(name="acme")
    by_hand = ApiKeyFactory(client=acme, label="rotated-by-hand")
    extra = route_with_methods("GET", pattern="/api/extra")
    PermissionFactory(client=acme, route=extra, methods="GET")
    RateLimitFactory(client=acme, window="day", limit=5000)
    ClientFactory(name="bystander")

    out = apply(FULL, "--prune")

    assert out.splitlines() == [
        "- permission acme */api/extra",
        "- rate limit acme per day on all routes",
        f"- credential acme api_key {by_hand.prefix} [rotated-by-hand] (revoke)",
        "- client bystander",
        "- route */api/extra",
        "Applied: 0 created, 0 updated, 5 deleted, 5 unchanged",
    ]
    assert list(Client.objects.values_list("name", flat=True)) == ["acme"]
    # Revoked, not deleted: the audit trail can still name it.
    assert acme.credentials.count() == 2
    assert list(acme.credentials.live()) == [acme.credentials.get(label="")]
    assert {
        "permission.revoked",
        "ratelimit.removed",
        "credential.revoked",
        "client.deleted",
        "route.deleted",
    } <= set(AuditEvent.objects.values_list("action", flat=True))


def test_an_id_that_exists_under_another_name_renames_that_client(apply):
    old = ClientFactory(name="old-name")
    ApiKeyFactory(client=old)

    out = apply(
        f"clients:\n  - {{name: new-name, id: '{old.pk}', credentials: [{{kind: api_key}}]}}\n"
    )

    assert out.splitlines()[0] == "~ client old-name: name old-name -> new-name"
    renamed = Client.objects.get()
    assert (renamed.pk, renamed.name, renamed.credentials.count()) == (old.pk, "new-name", 1)


def test_a_given_id_is_kept_when_the_client_is_created(apply):
    apply("clients:\n  - {name: signer, id: 7c0e0b6a-3a43-4c0e-9a55-0a3c8a0f1b2d}\n")

    assert str(Client.objects.get(name="signer").pk) == "7c0e0b6a-3a43-4c0e-9a55-0a3c8a0f1b2d"


def test_an_imported_api_key_is_stored_as_its_digest_and_imported_once(apply):
    text = "clients:\n  - {name: legacy, credentials: [{kind: api_key, key: LEGACY-abc-123456}]}\n"

    first = apply(text)

    assert "+ credential legacy api_key (imported)" in first
    assert "LEGACY-abc-123456" not in first
    assert Credential.objects.get().digest == keys.peppered_digest("LEGACY-abc-123456")
    assert apply(text) == "No changes.\n"


def test_an_imported_hmac_secret_matches_a_live_secret_that_unseals_to_it(apply):
    signer = ClientFactory(name="signer")
    HmacSecretFactory(client=signer, secret="already-there-secret")
    text = (
        "clients:\n  - name: signer\n    credentials:\n"
        "      - {kind: hmac, secret: already-there-secret}\n"
        "      - {kind: hmac, secret: a-brand-new-secret}\n"
    )

    out = apply(text)

    assert out.splitlines()[0] == "+ credential signer hmac (imported)"
    sealed = signer.credentials.values_list("secret_encrypted", flat=True)
    assert sorted(encryption.unseal(s) for s in sealed) == [
        "a-brand-new-secret",
        "already-there-secret",
    ]
    assert apply(text) == "No changes.\n"


@pytest.mark.parametrize(
    ("existing", "generated"),
    [
        ({}, True),
        ({"label": ""}, False),
        ({"label": "ci"}, True),
        ({"label": "", "revoked_at": timezone.now()}, True),
        ({"label": "", "expires_at": timezone.now()}, True),
    ],
)
def test_a_credential_without_a_value_is_generated_only_when_none_of_its_label_is_live(
    apply, existing, generated
):
    acme = ClientFactory(name="acme")
    if existing:
        ApiKeyFactory(client=acme, **existing)

    out = apply("clients:\n  - {name: acme, credentials: [{kind: api_key}]}\n")

    assert ("+ credential acme api_key (generated)" in out) is generated


def test_two_entries_of_one_kind_and_label_keep_two_credentials_live(apply):
    text = """
    clients:
      - name: acme
        credentials: [{kind: api_key, label: ci}, {kind: api_key, label: ci}]
    """

    assert len(generated_secrets(apply(text))) == 2
    assert apply(text) == "No changes.\n"


def test_a_failure_midway_leaves_the_database_exactly_as_before(apply):
    ApiKeyFactory(client=ClientFactory(name="holder"), plaintext="shared-legacy-key-1")
    before = database_state()

    with pytest.raises(CommandError) as caught:
        apply(
            FULL
            + "  - name: copycat\n"
            + "    credentials: [{kind: api_key, key: shared-legacy-key-1}]\n"
        )

    assert str(caught.value).endswith(
        "1 problem; nothing was changed.\n"
        "  clients[1].credentials[0].key: This API key is already in use."
    )
    assert database_state() == before


def test_a_file_can_be_read_from_standard_input(monkeypatch):
    monkeypatch.setattr(
        "sys.stdin", StringIO('{"routes": [{"pattern": "/x", "methods": {"GET": "public"}}]}')
    )

    call_command("apply_config", "-", "--format", "json", stdout=StringIO())

    assert Route.objects.get().method_rules() == {"GET": "public"}


@pytest.mark.parametrize("path", ["-", "config.toml"])
def test_a_file_whose_format_cannot_be_told_is_refused(path):
    with pytest.raises(CommandError, match="pass --format yaml or json"):
        call_command("apply_config", path, stdout=StringIO())


def test_a_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*missing.yaml: No such file"):
        call_command("apply_config", str(tmp_path / "missing.yaml"), stdout=StringIO())


def test_the_demo_config_applies_cleanly_and_a_second_apply_changes_nothing():
    demo = Path(settings.BASE_DIR) / "deploy" / "demo.yaml"
    out = StringIO()

    call_command("apply_config", str(demo), stdout=out)
    again = StringIO()
    call_command("apply_config", str(demo), stdout=again)

    assert len(generated_secrets(out.getvalue())) == 3
    assert again.getvalue() == "No changes.\n"
    assert Client.objects.filter(credentials__kind="hmac").count() == 1
