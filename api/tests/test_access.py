"""Who may call the API: staff with model permissions, tokens that are live and within their
scope, sessions with CSRF; guessing tokens is throttled; the decision server has no API."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import issue_token, revoke_token
from api.tests.conftest import client_with, grant_perms
from authz.tests.decider import DeciderClient
from clients.models import Client
from core.actor import Actor

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def test_without_credentials_the_api_answers_401_with_a_bearer_challenge():
    response = APIClient().get("/api/v1/routes/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: revoke_token(t, actor=ACTOR),
        lambda t: ApiToken.objects.filter(pk=t.pk).update(expires_at=timezone.now()),
        lambda t: User.objects.filter(pk=t.user_id).update(is_staff=False),
        lambda t: User.objects.filter(pk=t.user_id).update(is_active=False),
    ],
    ids=["revoked", "expired", "no longer staff", "inactive"],
)
def test_a_token_that_is_no_longer_good_is_refused(token, spoil):
    api = client_with(token)
    assert api.get("/api/v1/routes/").status_code == 200
    spoil(token.token)
    assert api.get("/api/v1/routes/").status_code == 401


def test_a_wrong_token_of_the_right_shape_is_refused(token):
    wrong = token.plaintext[:-4] + "AAAA"
    assert client_with(wrong).get("/api/v1/routes/").status_code == 401


def test_a_read_only_token_reads_and_explains_but_cannot_write(staff):
    reader = client_with(issue_token(staff, read_only=True, actor=ACTOR))
    assert reader.get("/api/v1/clients/").status_code == 200
    refused = reader.post("/api/v1/clients/", {"name": "acme"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This API token is read-only."
    explained = reader.post("/api/v1/explain", {"host": "h.example", "uri": "/x"}, format="json")
    assert explained.status_code == 200
    assert explained.json()["reason"] == "no_route_match"
    assert reader.post("/api/v1/config", {"config": {}}, format="json").status_code == 403
    dry = reader.post("/api/v1/config", {"config": {}, "dry_run": True}, format="json")
    assert dry.status_code == 200
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("perms", "call", "allowed"),
    [
        ((), lambda api: api.get("/api/v1/routes/"), False),
        (("routes.view_route",), lambda api: api.get("/api/v1/routes/"), True),
        (("routes.view_route",), lambda api: api.post("/api/v1/routes/", {"pattern": "/x"}), False),
        (("routes.add_route",), lambda api: api.post("/api/v1/routes/", {"pattern": "/x"}), True),
        (("clients.view_client",), lambda api: api.delete(f"/api/v1/clients/{CLIENT}/"), False),
        (("clients.delete_client",), lambda api: api.delete(f"/api/v1/clients/{CLIENT}/"), True),
        (("clients.view_credential",), lambda api: api.get("/api/v1/credentials/"), True),
        (
            ("clients.view_credential",),
            lambda api: api.post("/api/v1/credentials/", {"client": CLIENT, "kind": "api_key"}),
            False,
        ),
        (
            ("clients.add_credential",),
            lambda api: api.post("/api/v1/credentials/", {"client": CLIENT, "kind": "api_key"}),
            True,
        ),
        (("audit.view_auditevent",), lambda api: api.get("/api/v1/audit-events/"), True),
        (("audit.view_auditevent",), lambda api: api.get("/api/v1/decisions/"), False),
    ],
)
def test_each_action_needs_its_model_permission(perms, call, allowed):
    user = User.objects.create_user("limited", is_staff=True)
    grant_perms(user, *perms)
    Client.objects.create(id=CLIENT, name="target")
    api = client_with(issue_token(user, actor=ACTOR))
    api.default_format = "json"
    status = call(api).status_code
    assert (status < 400) is allowed, status
    if not allowed:
        assert status == 403


CLIENT = "7c0e0b6a-3a43-4c0e-9a55-0a3c8a0f1b2d"


GUESSER = "127.0.0.77"


@override_settings(GATEKEEPER_API_TOKEN_FAILURES=3)
def test_guessing_tokens_from_one_address_is_answered_429(token):
    guess = client_with("gka_aaaaaaaa_" + "b" * 32)
    for _ in range(3):
        assert guess.get("/api/v1/routes/", REMOTE_ADDR=GUESSER).status_code == 401
    blocked = client_with(token).get("/api/v1/routes/", REMOTE_ADDR=GUESSER)
    assert blocked.status_code == 429
    assert "Retry-After" in blocked
    elsewhere = client_with(token).get("/api/v1/routes/", REMOTE_ADDR="127.0.0.9")
    assert elsewhere.status_code == 200


def test_a_session_works_for_reads_and_needs_csrf_for_writes(staff):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(staff)
    assert browser.get("/api/v1/routes/").status_code == 200
    refused = browser.post("/api/v1/clients/", {"name": "acme"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Client.objects.exists()


def test_a_session_write_is_audited_as_the_user(staff):
    browser = APIClient()
    browser.force_login(staff)
    browser.post("/api/v1/clients/", {"name": "acme"}, format="json")
    from audit.models import AuditEvent

    assert AuditEvent.objects.get(action="client.created").actor == "user:ops"


def test_the_decision_server_does_not_serve_the_api(token):
    decider = DeciderClient()
    for path in ("/api/v1/routes/", "/api/v1/schema/", "/api/v1/config"):
        assert decider.get(path, HTTP_AUTHORIZATION=f"Bearer {token.plaintext}").status_code == 404


def test_the_command_issues_a_token_once_and_it_works(staff):
    out = StringIO()
    call_command("issue_api_token", "ops", "--read-only", "--label", "ci", stdout=out)
    plaintext = out.getvalue().strip().splitlines()[-1]
    assert plaintext.startswith("gka_")
    token = ApiToken.objects.get(label="ci")
    assert token.read_only
    assert plaintext not in (token.digest, token.prefix)
    assert client_with(plaintext).get("/api/v1/routes/").status_code == 200


def test_tokens_are_for_staff_only(db):
    user = User.objects.create_user("outsider")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        issue_token(user, actor=ACTOR)


def test_a_token_may_not_outlive_the_maximum(staff):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        issue_token(staff, expires_at=timezone.now() + timedelta(days=5000), actor=ACTOR)


def test_the_admin_shows_a_new_token_once(staff, admin_client):
    page = admin_client.post(
        "/admin/api/apitoken/add/",
        {"user": staff.pk, "label": "deploy", "expires_in_days": 30},
    )
    assert page.status_code == 302
    shown = admin_client.get(page["Location"])
    assert "no-store" in shown["Cache-Control"]
    token = ApiToken.objects.get(label="deploy")
    assert token.prefix in shown.content.decode()
    assert admin_client.get(page["Location"]).status_code == 410
