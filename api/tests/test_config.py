"""/api/v1/config: the config file through the API, with the command's errors and results."""

from __future__ import annotations

import textwrap
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from audit.models import AuditEvent
from clients.models import Client, Credential
from permissions.models import Permission, RateLimit
from routes.models import Route

pytestmark = pytest.mark.django_db

FILE = textwrap.dedent(
    """
    routes:
      - {domain: "*", pattern: /api/data/*, service: data, methods: {GET: api_key, POST: hmac}}
    clients:
      - name: acme
        id: 7c0e0b6a-3a43-4c0e-9a55-0a3c8a0f1b2d
        credentials: [{kind: api_key, key: legacy-key-0123456789}]
        rate_limits: [{limit: 100, window: minute}]
        permissions: [{pattern: /api/data/*, methods: [GET, POST]}]
    """
)


def state() -> dict[str, list]:
    return {
        "routes": list(Route.objects.values("domain", "pattern", "service_name")),
        "methods": list(Route.objects.values_list("methods__method", "methods__auth")),
        "clients": list(Client.objects.values("id", "name", "status")),
        "credentials": list(Credential.objects.values("kind", "prefix", "digest", "label")),
        "permissions": list(Permission.objects.values("client__name", "methods")),
        "rate_limits": list(RateLimit.objects.values("client__name", "limit", "window")),
        "audit": sorted(
            (e.action, e.object_type, e.object_repr, str(e.detail))
            for e in AuditEvent.objects.exclude(action__startswith="api_token")
        ),
    }


def test_the_api_and_the_command_make_the_same_database_and_audit_rows(api, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(FILE)
    call_command("apply_config", str(path), stdout=StringIO())
    by_command = state()
    actors = set(AuditEvent.objects.values_list("actor", flat=True))
    Client.objects.all().delete()
    Route.objects.all().delete()
    AuditEvent.objects.all().delete()

    answer = api.post("/api/v1/config", {"config": yaml.safe_load(FILE)}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["created"] == 5
    assert state() == by_command
    assert all(actor.startswith("cli:") for actor in actors - {"system:test"})
    assert {e.actor.split(":")[0] for e in AuditEvent.objects.all()} == {"api"}


def test_a_dry_run_shows_the_changes_and_makes_none(api):
    answer = api.post(
        "/api/v1/config", {"config": yaml.safe_load(FILE), "dry_run": True}, format="json"
    ).json()
    assert [c["text"] for c in answer["changes"]][:2] == [
        "+ route */api/data/* (GET:api_key, POST:hmac)",
        "+ client acme (active, id 7c0e0b6a-3a43-4c0e-9a55-0a3c8a0f1b2d)",
    ]
    assert answer["dry_run"] is True
    assert not Route.objects.exists()


def test_every_problem_comes_back_at_its_location_and_nothing_is_kept(api):
    config = yaml.safe_load(
        textwrap.dedent(
            """
            routes:
              - {pattern: /api/x, servce: x, methods: {GET: api_key}}
            clients:
              - name: acme
                status: asleep
                permissions:
                  - {pattern: /api/x, methods: [GET, DELETE]}
                  - {pattern: /gone, methods: [GET]}
            """
        )
    )
    answer = api.post("/api/v1/config", {"config": config}, format="json")

    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"] == [
        {"location": "routes[0].servce", "message": "unknown field (did you mean service?)"},
        {
            "location": "clients[0].status",
            "message": "'asleep' is not one of active, suspended, revoked",
        },
        {
            "location": "clients[0].permissions[0].methods",
            "message": "DELETE is not configured on route */api/x",
        },
        {
            "location": "clients[0].permissions[1]",
            "message": "route */gone is neither in the file nor in the database",
        },
    ]
    assert not Route.objects.exists()


def test_generated_secrets_are_in_the_applying_answer_only(api):
    config = {"clients": [{"name": "acme", "credentials": [{"kind": "api_key"}]}]}
    answer = api.post("/api/v1/config", {"config": config}, format="json")
    (generated,) = answer.json()["generated"]
    assert generated["secret"].startswith("gk_")
    assert answer["Cache-Control"] == "no-store"
    assert generated["secret"] not in api.get("/api/v1/config").content.decode()


def test_the_export_is_the_config_files_shape(api):
    api.post("/api/v1/config", {"config": yaml.safe_load(FILE)}, format="json")
    exported = api.get("/api/v1/config").json()
    assert exported["routes"][0]["pattern"] == "/api/data/*"
    assert exported["clients"][0]["credentials"] == [{"kind": "api_key"}]
    again = api.post("/api/v1/config", {"config": exported}, format="json").json()
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)


def test_prune_deletes_what_the_document_does_not_name(api):
    api.post("/api/v1/config", {"config": yaml.safe_load(FILE)}, format="json")
    answer = api.post("/api/v1/config", {"config": {}, "prune": True}, format="json").json()
    assert answer["deleted"] == 2  # the client (with all it holds) and the route
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("body", "location"),
    [({}, "config"), ({"config": {}, "dry_run": "yes"}, "dry_run"), ([], "config")],
)
def test_a_malformed_request_is_a_400(api, body, location):
    answer = api.post("/api/v1/config", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["location"] == location
