"""Every command with --dry-run says what it *would* do, and does nothing (issue 9, item 16).

`delete_client acme --dry-run` used to print "Deleted client acme". The table below names every
Gatekeeper command that takes --dry-run; a new one without a row fails the first test.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command, get_commands, load_command_class

from audit.models import AuditEvent
from clients.models import Client, Credential
from clients.services import issue_api_key, issue_hmac_secret
from clients.tests.factories import ClientFactory
from core.actor import Actor
from permissions.models import Permission, RateLimit
from permissions.tests.factories import PermissionFactory, RateLimitFactory, route_with_methods
from routes.models import Route

OUR_APPS = {"audit", "routes", "clients", "permissions", "authz"}

DRY_RUNS: dict[str, list[str]] = {
    "create_route": ["--pattern", "/api/new", "--method", "GET"],
    "delete_route": ["--pattern", "/api/x"],
    "create_client": ["--name", "new", "--api-key", "--hmac"],
    "delete_client": ["acme"],
    "set_client_status": ["acme", "suspended"],
    "issue_credential": ["acme", "--kind", "api_key"],
    "rotate_credentials": ["acme"],
    "revoke_credential": ["--prefix", "{prefix}"],
    "reencrypt_secrets": [],
    "grant": ["--client", "acme", "--pattern", "/api/x", "--methods", "POST"],
    "revoke": ["--client", "acme", "--pattern", "/api/x", "--methods", "GET"],
    "set_rate_limit": ["--client", "acme", "--limit", "7", "--window", "hour"],
    "apply_config": ["{config}"],
    "prune_audit": ["--older-than", "1s"],
}
# A line that claims a change was made: "Deleted ...", "Set ...", "Left ...".
CLAIM = re.compile(r"^(\w[\w-]*ed|Set|Left)\b")
CONFIG = """\
routes:
  - {pattern: /api/y, methods: {GET: api_key}}
clients:
  - name: acme
    status: suspended
    credentials: [{kind: api_key}]
"""


def test_every_command_with_a_dry_run_is_in_the_table():
    with_dry_run = {
        name
        for name, app in get_commands().items()
        if app in OUR_APPS and getattr(load_command_class(app, name), "supports_dry_run", False)
    }
    assert with_dry_run == set(DRY_RUNS)


@pytest.fixture
def world(db, tmp_path):
    acme = ClientFactory(name="acme")
    route = route_with_methods("GET", "POST", pattern="/api/x")
    PermissionFactory(client=acme, route=route, methods="GET")
    RateLimitFactory(client=acme, window="minute", limit=5)
    actor = Actor.system("test")
    key = issue_api_key(acme, actor=actor).credential
    issue_hmac_secret(acme, actor=actor)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    return {"prefix": key.prefix, "config": str(config)}


def state() -> list:
    models = (Route, Client, Credential, Permission, RateLimit, AuditEvent)
    return [sorted(map(repr, model.objects.values())) for model in models]


@pytest.mark.parametrize("command", sorted(DRY_RUNS))
def test_a_dry_run_says_would_and_changes_nothing(world, command):
    args = [arg.format(**world) for arg in DRY_RUNS[command]]
    before = state()

    out = StringIO()
    call_command(command, *args, "--dry-run", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[-1] == "Dry run: nothing was changed."
    assert any(line.startswith("Would ") for line in lines), lines
    claims = [line for line in lines if CLAIM.match(line)]
    assert not claims
    assert state() == before
