"""The dashboard's pages through Django's test client: the overview, the access tester, the
client page, the route page and the decision record's "test this" link (issue 13)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import add_decision_counts
from audit.tests.factories import DecisionRecordFactory
from authz import runtime
from authz.tests.conftest import ACTOR
from clients import services as clients
from clients.models import Client, Credential
from permissions import services as permissions
from permissions.models import Permission
from routes import services as routes

pytestmark = pytest.mark.django_db

TESTER = reverse("dashboard:tester")
NEW_KEY = re.compile(r"gk_[a-z0-9]{8}_[A-Za-z0-9]{32}")


def client_page(world_client: Client) -> str:
    return reverse("admin:clients_client_change", args=[world_client.pk])


def explain(admin_client, **fields: str):
    runtime.get_runtime().holder.invalidate()
    data = {"method": "GET", "host": "api.example.com", "uri": "/", "client": "", "headers": ""}
    response = admin_client.post(TESTER, {**data, **fields})
    assert response.status_code == 200
    return response


# --- overview ---------------------------------------------------------------------------------


def test_the_overview_shows_traffic_denials_changes_expiry_idle_and_health(admin_client, world):
    now = timezone.now()
    add_decision_counts({(now, "authenticated"): 40, (now, "no_permission"): 7})
    DecisionRecordFactory(
        reason="no_permission",
        client=world.acme,
        route=world.admin,
    )
    clients.issue_api_key(world.acme, actor=ACTOR, label="soon", expires_at=now + timedelta(days=3))
    Client.objects.filter(name="stranger").update(created_at=now - timedelta(days=60))
    page = admin_client.get("/admin/").content.decode()
    assert "Decisions per minute, last hour" in page
    assert "allowed 40" in page
    assert "no_permission 7" in page
    assert f"?client={world.acme.id}" in page  # the most denied client, linked
    assert "credential.issued" in page  # recent changes
    expiring = page.split('id="expiring"')[1].split('id="idle"')[0]
    assert "acme" in expiring
    assert "stranger" not in expiring
    idle = page.split('id="idle"')[1].split('id="recent-changes"')[0]
    assert "stranger" in idle
    assert "acme" not in idle
    health = page.split('id="health"')[1][:1200]
    assert health.count('class="gk-ok">ok<') == 2
    # Django's list of apps is still there, below.
    assert 'id="content-main"' in page


# --- access tester ----------------------------------------------------------------------------


def test_the_tester_explains_an_allowed_request_and_never_echoes_the_key(admin_client, world):
    response = explain(
        admin_client, uri="/api/data/x", headers=f"Authorization: Bearer {world.acme_key}"
    )
    page = response.content.decode()
    assert "200 authenticated" in page
    assert "acme" in page
    assert world.acme_key not in page
    assert world.acme_key[3:20] not in page
    assert "no-store" in response["Cache-Control"]


def test_the_tester_explains_a_denial_and_a_shadowed_route(admin_client, world):
    specific = routes.create_route(
        domain="api.example.com", pattern="/api/data/*", methods={"GET": "public"}, actor=ACTOR
    )
    page = explain(admin_client, uri="/api/data/x").content.decode()
    assert "200 no_auth_required" in page
    assert "shadowed by a more specific domain" in page
    assert str(specific) in page
    denied = explain(admin_client, uri="/api/admin/x", client="stranger").content.decode()
    assert "403 no_permission" in denied
    assert "as stranger, with a valid API key" in denied


def test_the_tester_refuses_a_malformed_header_without_echoing_it(admin_client, world):
    page = explain(admin_client, uri="/api/data/x", headers=f"Bearer {world.acme_key}")
    content = page.content.decode()
    assert "is not &#x27;Name: value&#x27;" in content or "is not 'Name: value'" in content
    assert world.acme_key not in content


def test_test_this_links_prefill_the_tester_never_with_a_key(admin_client, world):
    record = DecisionRecordFactory(
        reason="invalid_credentials",
        detail="unknown_credential",
        client=world.acme,
        method="POST",
        path="/api/data/7",
    )
    page = admin_client.get(reverse("admin:audit_decisionrecord_change", args=[record.pk]))
    (link,) = re.findall(r'href="(/admin/dashboard/tester/\?[^"]+)"', page.content.decode())
    query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
    assert query == {
        "method": ["POST"],
        "host": ["api.example.com"],
        "uri": ["/api/data/7"],
        "client": [str(world.acme.id)],
    }
    form = admin_client.get(link.replace("&amp;", "&")).content.decode()
    assert 'value="/api/data/7"' in form


# --- client page ------------------------------------------------------------------------------


def test_the_client_page_shows_credentials_permissions_limits_and_decisions(admin_client, world):
    permissions.set_rate_limit(world.acme, limit=100, window="minute", actor=ACTOR)
    DecisionRecordFactory(
        reason="method_not_allowed",
        client=world.acme,
        method="DELETE",
        path="/api/data/9",
    )
    page = admin_client.get(client_page(world.acme)).content.decode()
    for section in ("credentials", "permissions", "limits", "latest-decisions"):
        assert f'id="{section}"' in page
    assert page.count('class="credential live"') == 2
    assert 'class="credential expired"' in page
    assert "GET, POST, PUT" in page
    assert "100 per minute" in page
    assert "(100 left)" in page
    assert "/api/data/9" in page
    assert f"?client={world.acme.id}" in page


def test_issuing_from_the_client_page_shows_the_key_once(admin_client, world):
    response = admin_client.post(
        reverse("admin:clients_client_issue", args=[world.acme.pk]),
        {"kind": "api_key", "label": "ci", "expires_in_days": "30"},
    )
    assert response.status_code == 302
    shown = admin_client.get(response["Location"])
    (key,) = NEW_KEY.findall(shown.content.decode())
    credential = Credential.objects.get(label="ci")
    assert credential.expires_at > timezone.now() + timedelta(days=29)
    again = admin_client.get(response["Location"])
    assert again.status_code == 410
    assert key not in again.content.decode()
    assert Credential.objects.filter(client=world.acme).count() == 4


def test_the_shown_once_page_is_only_for_who_issued(admin_client, world, viewer_client):
    response = admin_client.post(
        reverse("admin:clients_client_issue", args=[world.acme.pk]), {"kind": "hmac"}
    )
    other = viewer_client.get(response["Location"])
    assert other.status_code == 410
    mine = admin_client.get(response["Location"])
    assert mine.status_code == 200
    assert str(world.acme.pk) in mine.content.decode()


def test_rotating_and_revoking_from_the_client_page(admin_client, world):
    old = Credential.objects.filter(client=world.acme, kind="hmac").get()
    response = admin_client.post(
        reverse("admin:clients_client_rotate", args=[world.acme.pk]), {"kind": "hmac"}
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert old.prefix in page  # the old secret, and until when it still works
    old.refresh_from_db()
    assert old.expires_at is not None
    revoke = reverse("admin:clients_client_revoke", args=[world.acme.pk, old.pk])
    done = admin_client.post(revoke, follow=True)
    assert "stopped working now" in done.content.decode()
    old.refresh_from_db()
    assert old.revoked_at is not None
    again = admin_client.post(revoke, follow=True)
    assert "already revoked" in again.content.decode()


def test_granting_several_routes_at_once_says_what_happened(admin_client, world):
    public = world.public
    grant = reverse("dashboard:grant", args=[world.acme.pk])
    response = admin_client.post(
        grant, {"routes": [world.admin.pk, public.pk], "methods": ["GET", "POST"]}, follow=True
    )
    page = response.content.decode()
    assert f"Granted acme: GET on {world.admin}; GET on {public}" in page
    assert f"Not granted: POST on {world.admin} (not configured there)" in page
    held = {p.route_id: p.methods for p in Permission.objects.filter(client=world.acme)}
    assert held[world.admin.pk] == "GET"
    assert held[public.pk] == "GET"
    # Adding to a route the client holds keeps what it had.
    admin_client.post(grant, {"routes": [world.data.pk], "methods": ["DELETE"]})
    assert (
        Permission.objects.get(client=world.acme, route=world.data).methods == "GET,POST,PUT,DELETE"
    )


def test_granting_an_api_key_method_to_an_hmac_only_client_warns(admin_client, world):
    signer = clients.create_client(name="signer", actor=ACTOR)
    clients.issue_hmac_secret(signer, actor=ACTOR)
    response = admin_client.post(
        reverse("dashboard:grant", args=[signer.pk]),
        {"routes": [world.data.pk], "methods": ["GET", "POST"]},
        follow=True,
    )
    page = response.content.decode()
    assert "holds only HMAC secrets" in page
    assert f"GET on {world.data} asks for an API key" in page
    assert "POST on" not in page.split("holds only HMAC secrets")[1]


# --- route page -------------------------------------------------------------------------------


def test_the_route_page_shows_holders_shadowing_and_decisions(admin_client, world):
    specific = routes.create_route(
        domain="api.example.com", pattern="/api/data/{id}", methods={"GET": "public"}, actor=ACTOR
    )
    runtime.get_runtime().holder.invalidate()
    page = admin_client.get(reverse("admin:routes_route_change", args=[world.data.pk]))
    content = page.content.decode()
    assert 'id="holders"' in content
    assert "acme" in content.split('id="holders"')[1]
    shadow = content.split('id="shadowing"')[1].split('id="holders"')[0]
    assert str(specific) in shadow
    assert "shadowed by a more specific domain" in shadow
    assert "/admin/dashboard/tester/?" in content


def test_removing_a_method_that_permissions_use_asks_first(admin_client, world):
    url = reverse("admin:routes_route_change", args=[world.data.pk])
    data = {
        "domain": "*",
        "pattern": "/api/data/*",
        "service_name": "",
        "description": "",
        "rule_GET": "api_key",
        "rule_PUT": "any",
        "rule_DELETE": "api_key",
    }
    first = admin_client.post(url, data)
    assert first.status_code == 200
    page = first.content.decode()
    assert "Removing POST narrows 1 permission(s): acme (GET,POST,PUT)" in page
    assert Permission.objects.get(client=world.acme, route=world.data).methods == "GET,POST,PUT"
    confirmed = admin_client.post(url, {**data, "confirm_narrowing": "on"})
    assert confirmed.status_code == 302
    assert Permission.objects.get(client=world.acme, route=world.data).methods == "GET,PUT"
    assert AuditEvent.objects.filter(action="permission.narrowed").exists()
