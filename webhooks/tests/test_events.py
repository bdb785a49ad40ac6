"""Every event type reaches a real receiver once, signed so that the `standardwebhooks`
package and the Python SDK verify it, with the payload the README describes."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from authz.tests.wire import bearer
from clients import services as clients
from permissions import services as permissions
from routes import services as routes
from webhooks import expiring, services
from webhooks.models import EventType
from webhooks.tests.conftest import ACTOR, deliver_due, hand_off, make_endpoint
from webhooks.tests.receiver import fail_first

pytestmark = pytest.mark.django_db

ISO_TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$"


def test_every_event_type_arrives_once_with_a_valid_signature(
    world, ask, receiver, settings, tmp_path
):
    settings.GATEKEEPER_WEBHOOK_AUTH_FAILURES = 3
    permissions.set_rate_limit(world.acme, limit=1, window="hour", actor=ACTOR)
    clients.issue_hmac_secret(
        world.acme, actor=ACTOR, expires_at=timezone.now() + timedelta(days=2)
    )
    _, secret = make_endpoint(receiver)

    beta = clients.create_client(name="beta", actor=ACTOR)  # client.created
    beta_id = str(beta.pk)
    clients.set_client_status(beta, "suspended", actor=ACTOR)  # client.status_changed
    issued = clients.issue_api_key(beta, actor=ACTOR)  # credential.issued
    clients.rotate_credentials(beta, kind="api_key", grace=timedelta(hours=1), actor=ACTOR)
    clients.revoke_credential(issued.credential, actor=ACTOR)  # credential.revoked
    permissions.grant(beta, world.data, ["GET"], actor=ACTOR)  # permission.granted
    permissions.revoke(beta, world.data, actor=ACTOR)  # permission.revoked
    route = routes.create_route(  # route.changed
        domain="*", pattern="/api/new/*", methods={"GET": "api_key"}, actor=ACTOR
    )
    config = tmp_path / "limits.yaml"
    config.write_text(
        "clients:\n  - name: beta\n    status: suspended\n"
        "    rate_limits: [{limit: 5, window: day}]\n"
    )
    call_command("apply_config", str(config), stdout=StringIO())  # config.applied
    expiring.scan(now=timezone.now(), days=7)  # credential.expiring
    for _ in range(3):  # credential.expired_used (once per interval); the third failure
        assert ask("GET", "/api/data/x", **bearer(world.expired_key)).status_code == 401
    for _ in range(2):  # rate_limit.exceeded on the second
        ask("GET", "/api/data/x", **bearer(world.acme_key))
    hand_off()  # auth_failures.threshold (3 failures), and the two above into the outbox
    other, _ = make_endpoint(receiver, name="other")
    services.disable_endpoint(other, reason="testing", actor=ACTOR)  # endpoint.disabled
    clients.delete_client(beta, actor=ACTOR)  # client.deleted

    deliver_due()
    received = receiver.wait_for(len(EventType.subscribable()))
    payloads = receiver.verify(secret)  # both libraries, every request

    assert Counter(p["type"] for p in payloads) == {t.value: 1 for t in EventType.subscribable()}
    ids = [r.message_id for r in received]
    assert len(set(ids)) == len(ids), "every event has its own webhook-id"
    for payload, request in zip(payloads, received, strict=True):
        assert set(payload) == {"id", "type", "timestamp", "data"}
        assert payload["id"] == request.message_id
        assert payload["timestamp"]
        assert request.headers["content-type"] == "application/json"
    by_type = {p["type"]: p["data"] for p in payloads}
    assert by_type["client.status_changed"]["from"] == "active"
    assert by_type["client.status_changed"]["to"] == "suspended"
    assert by_type["credential.revoked"]["credential"]["prefix"] == issued.credential.prefix
    assert by_type["permission.revoked"]["removed"] == ["GET"]
    assert by_type["config.applied"]["counts"]["created"] == 1
    assert by_type["credential.expired_used"]["credential"]["kind"] == "api_key"
    assert by_type["credential.expired_used"]["detail"] == "expired_credential"
    assert by_type["rate_limit.exceeded"]["limit"] == 1
    assert by_type["rate_limit.exceeded"]["route"]["id"] == world.data.pk
    assert by_type["auth_failures.threshold"]["failures"] == 3
    assert by_type["endpoint.disabled"]["endpoint"]["name"] == "other"
    assert by_type["client.deleted"]["client"] == {"id": beta_id, "name": "beta"}
    for data in by_type.values():
        if "client" in data:
            assert set(data["client"]) == {"id", "name"}
    assert by_type["route.changed"]["route"]["id"] == route.pk
    assert by_type["route.changed"]["change"] == "created"


def test_a_retried_webhook_is_signed_anew_with_the_same_id_and_body(receiver):
    receiver.script = fail_first(1)
    _, secret = make_endpoint(receiver)
    clients.create_client(name="acme", actor=ACTOR)
    deliver_due()
    time.sleep(1.3)  # the compressed schedule's one-second wait
    deliver_due()
    first, second = receiver.wait_for(2)
    assert first.message_id == second.message_id
    assert first.body == second.body
    receiver.verify(secret)
