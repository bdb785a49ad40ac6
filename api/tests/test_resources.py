"""The REST API's resources, through the services: what each call changes and answers."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from clients.models import Client, Credential
from clients.tests.factories import ClientFactory
from permissions.models import Permission, RateLimit
from permissions.tests.factories import route_with_methods
from routes.models import Route

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_a_route_is_created_read_changed_and_deleted(api, token):
    created = api.post(
        "/api/v1/routes/",
        {"domain": "API.example.com", "pattern": "/v1/*", "methods": {"get": "api_key"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["domain"] == "api.example.com"
    assert body["methods"] == {"GET": "api_key"}
    url = f"/api/v1/routes/{body['id']}/"

    changed = api.patch(url, {"methods": {"GET": "any", "POST": "hmac"}}, format="json")
    assert changed.json()["methods"] == {"GET": "any", "POST": "hmac"}
    assert Route.objects.get().method_rules() == {"GET": "any", "POST": "hmac"}
    assert api.get("/api/v1/routes/?domain=api.example.com").json()["count"] == 1

    assert api.delete(url).status_code == 204
    assert not Route.objects.exists()
    actors = set(
        AuditEvent.objects.filter(object_type="routes.route").values_list("actor", flat=True)
    )
    assert actors == {f"api:ops/{token.token.prefix}"}


def test_bad_input_is_a_problem_detail_with_the_config_files_messages(api):
    response = api.post(
        "/api/v1/routes/",
        {"pattern": "api/x", "servce": "x", "methods": {"GET": "apikey"}},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    # The same messages as `routes[0].<field>: ...` from apply_config.
    assert body["errors"] == [
        {"location": "servce", "message": "unknown field (did you mean service?)"},
        {"location": "pattern", "message": "A pattern starts with '/'."},
        {
            "location": "methods.GET",
            "message": "'apikey' is not one of public, api_key, hmac, any (did you mean api_key?)",
        },
    ]


def test_a_rule_of_the_service_comes_back_at_its_field(api):
    route_with_methods("GET", pattern="/api/orders/{id}")
    response = api.post("/api/v1/routes/", {"pattern": "/api/orders/{order_id}"}, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["location"] == "pattern"
    assert "already matches the same paths" in error["message"]


def test_clients_are_created_renamed_suspended_and_deleted(api):
    created = api.post("/api/v1/clients/", {"name": "acme"}, format="json").json()
    url = f"/api/v1/clients/{created['id']}/"
    assert created["status"] == "active"

    changed = api.patch(url, {"name": "acme-corp", "status": "suspended"}, format="json")
    assert (changed.json()["name"], changed.json()["status"]) == ("acme-corp", "suspended")
    assert api.get("/api/v1/clients/?status=suspended").json()["count"] == 1
    assert api.get("/api/v1/clients/not-a-uuid/").status_code == 404
    assert api.delete(url).status_code == 204
    assert not Client.objects.exists()


def test_a_client_name_is_refused_with_the_models_message(api):
    response = api.post("/api/v1/clients/", {"name": "acme corp"}, format="json")
    assert response.json()["errors"] == [
        {
            "location": "name",
            "message": "A client name starts with a letter or digit and holds only letters, "
            "digits, '.', '_' and '-'.",
        }
    ]


def test_grant_adds_methods_and_revoke_takes_them_away(api):
    route = route_with_methods("GET", "POST", "DELETE", pattern="/api/x")
    acme = ClientFactory(name="acme")
    first = api.post(
        "/api/v1/permissions/",
        {"client": str(acme.pk), "route": route.pk, "methods": ["GET"]},
        format="json",
    )
    assert first.status_code == 201
    again = api.post(
        "/api/v1/permissions/",
        {"client": str(acme.pk), "route": route.pk, "methods": ["post"]},
        format="json",
    )
    assert again.json()["methods"] == ["GET", "POST"]
    url = f"/api/v1/permissions/{again.json()['id']}/"

    narrowed = api.post(f"{url}revoke/", {"methods": ["GET"]}, format="json")
    assert narrowed.json()["methods"] == ["POST"]
    refused = api.post(
        "/api/v1/permissions/",
        {"client": str(acme.pk), "route": route.pk, "methods": ["PATCH"]},
        format="json",
    )
    assert refused.json()["errors"] == [
        {"location": "methods", "message": "PATCH is not configured on route */api/x"}
    ]
    assert api.post(f"{url}revoke/", {}, format="json").status_code == 204
    assert not Permission.objects.exists()


def test_rate_limits_show_their_current_usage(api):
    acme = ClientFactory(name="acme")
    created = api.post(
        "/api/v1/rate-limits/",
        {"client": str(acme.pk), "limit": 100, "window": "minute"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["limit"], body["used"], body["remaining"]) == (100, 0, 100)
    url = f"/api/v1/rate-limits/{body['id']}/"
    assert api.patch(url, {"limit": 5}, format="json").json()["limit"] == 5
    assert api.delete(url).status_code == 204
    assert not RateLimit.objects.exists()


def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(api):
    url = f"/api/v1/clients/{ClientFactory(name='acme').pk}/"
    etag = api.get(url)["ETag"]
    assert (
        api.patch(url, {"description": "mine"}, format="json", HTTP_IF_MATCH=etag).status_code
        == 200
    )

    late = api.patch(url, {"description": "theirs"}, format="json", HTTP_IF_MATCH=etag)

    assert late.status_code == 412
    assert late["Content-Type"] == PROBLEM
    assert Client.objects.get().description == "mine"


def test_a_missing_object_is_a_404_problem(api):
    response = api.get("/api/v1/routes/999999/")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_revoking_a_revoked_credential_is_a_409(api):
    acme = ClientFactory(name="acme")
    issued = api.post(
        "/api/v1/credentials/", {"client": str(acme.pk), "kind": "api_key"}, format="json"
    ).json()
    url = f"/api/v1/credentials/{issued['id']}/revoke/"
    assert api.post(url).json()["state"] == "revoked"
    again = api.post(url)
    assert again.status_code == 409
    assert Credential.objects.get().revoked_at is not None


def test_the_audit_trail_and_decisions_are_read_newest_first_in_cursor_pages(api):
    for name in ("a", "b", "c"):
        api.post("/api/v1/clients/", {"name": name}, format="json")
    first = api.get("/api/v1/audit-events/?action=client.created&page_size=2").json()
    assert [e["object_repr"] for e in first["results"]] == ["c", "b"]
    assert "count" not in first
    second = api.get(first["next"]).json()
    assert [e["object_repr"] for e in second["results"]] == ["a"]
    assert api.get("/api/v1/decisions/?reason=no_route_match").json()["results"] == []
    assert api.get("/api/v1/decisions/?reason=bogus").status_code == 400


@pytest.mark.parametrize("escaped", ["a\\u0000b", "\\ud800"], ids=["NUL", "surrogate"])
def test_text_the_database_cannot_store_is_a_400_not_a_500(api, escaped):
    route = route_with_methods("GET", pattern="/api/x")
    body = '{"description": "' + escaped + '"}'
    response = api.generic(
        "PATCH", f"/api/v1/routes/{route.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["location"] == "description"
