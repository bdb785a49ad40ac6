"""The webhook commands: thin, scriptable, audited, secrets printed only when just made."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditEvent
from clients import services as clients
from webhooks.models import Delivery, Endpoint, Event, EventType
from webhooks.tests.conftest import ACTOR, make_endpoint
from webhooks.tests.receiver import always

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]{44}$", re.MULTILINE)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_prints_the_secret_once_and_a_dry_run_makes_nothing(receiver):
    dry = run("create_webhook_endpoint", "ops", receiver.url(), "--dry-run")
    assert not SECRET.search(dry)
    assert not Endpoint.objects.exists()

    out = run(
        "create_webhook_endpoint",
        "ops",
        receiver.url(),
        "--events",
        "client.created,rate_limit.exceeded",
        "--cooldown",
        "10m",
    )
    assert SECRET.search(out)
    assert "will not be shown again" in out
    endpoint = Endpoint.objects.get()
    assert (endpoint.events, endpoint.cooldown_seconds) == (
        ["client.created", "rate_limit.exceeded"],
        600,
    )
    assert AuditEvent.objects.get(action="webhook_endpoint.created").actor.startswith("cli:")


def test_create_refuses_bad_input_with_a_readable_error(loopback):
    with pytest.raises(CommandError, match="private address"):
        run("create_webhook_endpoint", "ops", "https://192.168.0.10/hook")
    with pytest.raises(CommandError, match="unknown event type"):
        run("create_webhook_endpoint", "ops", "https://hooks.example.com/", "--events", "nope")
    run("create_webhook_endpoint", "ops", "https://hooks.example.com/")
    with pytest.raises(CommandError, match="already exists"):
        run("create_webhook_endpoint", "OPS", "https://hooks.example.com/")
    assert Endpoint.objects.count() == 1


def test_list_shows_state_and_hides_the_query(receiver):
    make_endpoint(receiver)
    Endpoint.objects.update(url=receiver.url("/hook?token=receivers-own-token"))
    rows = json.loads(run("list_webhook_endpoints", "--json"))
    assert rows[0]["name"] == "ops"
    assert rows[0]["url"].endswith("/hook?[redacted]")
    assert "receivers-own-token" not in run("list_webhook_endpoints")


def test_update_changes_fields_the_client_filter_and_the_state(receiver):
    endpoint, _ = make_endpoint(receiver)
    acme = clients.create_client(name="acme", actor=ACTOR)
    run("update_webhook_endpoint", "ops", "--events", "client.deleted", "--client", "acme")
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.client_ids) == (["client.deleted"], [str(acme.pk)])

    run("update_webhook_endpoint", "ops", "--all-clients", "--disable", "--reason", "moving")
    endpoint.refresh_from_db()
    assert (endpoint.client_ids, endpoint.active, endpoint.disabled_reason) == (
        [],
        False,
        "moving",
    )
    out = run("update_webhook_endpoint", "ops", "--enable")
    assert "is active" in out
    with pytest.raises(CommandError, match="No client"):
        run("update_webhook_endpoint", "ops", "--client", "nobody")


def test_rotate_prints_the_new_secret_and_both_sign(receiver):
    _, old = make_endpoint(receiver, events=["client.created"])
    out = run("rotate_webhook_secret", "ops", "--grace", "1h")
    (new,) = SECRET.findall(out)
    assert new != old
    clients.create_client(name="acme", actor=ACTOR)
    run("send_test_webhook", "ops")
    for request in receiver.requests:
        Webhook(old).verify(request.body, request.headers)
        Webhook(new).verify(request.body, request.headers)


def test_send_test_webhook_says_how_the_receiver_answered(receiver):
    _, secret = make_endpoint(receiver, events=["route.changed"])
    out = run("send_test_webhook", "ops")
    assert "ops took msg_" in out
    (request,) = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["type"] == EventType.TEST

    receiver.script = always(503)
    with pytest.raises(CommandError, match=r"did not take .* answered 503"):
        run("send_test_webhook", "ops")
    failed = Delivery.objects.filter(status="pending").get()
    assert failed.attempts == 1, "left to the worker's retries"


def test_redeliver_queues_the_failed_ones_again(receiver, settings):
    settings.GATEKEEPER_WEBHOOK_RETRY_SCHEDULE = [1]
    make_endpoint(receiver, events=["route.changed"])
    Delivery.objects.all().delete()
    receiver.script = always(500)
    with pytest.raises(CommandError):
        run("send_test_webhook", "ops")
    Delivery.objects.update(status="failed", next_attempt_at=None)

    assert "1 deliver(y/ies) to ops queued" in run("redeliver_webhooks", "ops", "--since", "1h")
    assert Delivery.objects.get().status == "pending"


def test_reencrypt_moves_endpoint_secrets_to_the_new_key(receiver, settings):
    _, secret = make_endpoint(receiver, events=["route.changed"])
    settings.GATEKEEPER_SECRET_KEYS = [
        Fernet.generate_key().decode(),
        *settings.GATEKEEPER_SECRET_KEYS,
    ]
    assert "Re-encrypted 1 endpoint secret(s)." in run("reencrypt_webhook_secrets")
    settings.GATEKEEPER_SECRET_KEYS = settings.GATEKEEPER_SECRET_KEYS[:1]
    run("send_test_webhook", "ops")
    (request,) = receiver.requests
    Webhook(secret).verify(request.body, request.headers)


def test_delete_removes_the_endpoint_and_its_log(receiver):
    make_endpoint(receiver)
    clients.create_client(name="acme", actor=ACTOR)
    run("delete_webhook_endpoint", "ops")
    assert not Endpoint.objects.exists()
    assert not Delivery.objects.exists()
    deleted = AuditEvent.objects.get(action="webhook_endpoint.deleted")
    assert deleted.detail["deliveries"] == 1


def test_prune_deletes_old_ended_deliveries_and_keeps_pending_ones(receiver):
    make_endpoint(receiver, events=["client.created"])
    for name in ("old-done", "old-pending", "new-done"):
        clients.create_client(name=name, actor=ACTOR)
    long_ago = timezone.now() - timedelta(days=40)
    old = Delivery.objects.filter(event__data__client__name__startswith="old")
    old.update(queued_at=long_ago)
    Event.objects.filter(data__client__name__startswith="old").update(created_at=long_ago)
    Delivery.objects.exclude(event__data__client__name="old-pending").update(
        status="delivered", next_attempt_at=None
    )

    assert "Would delete 1 deliveries, 0 events" in run("prune_webhooks", "--dry-run")
    assert Delivery.objects.count() == 3
    out = run("prune_webhooks", "--older-than", "30d")

    assert "Deleted 1 deliveries, 1 events, 0 cooldowns older than 30d" in out
    left = sorted(Delivery.objects.values_list("event__data__client__name", flat=True))
    assert left == ["new-done", "old-pending"]
    assert AuditEvent.objects.get(action="webhook_delivery.pruned").detail["deleted"] == {
        "deliveries": 1,
        "events": 1,
        "cooldowns": 0,
    }
