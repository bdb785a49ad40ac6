"""Events from configuration changes are written in the change's own transaction: a change
that rolls back sends nothing, whether it was made in the admin or by a config file."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from clients import services as clients
from clients.models import Client
from clients.tests.factories import ApiKeyFactory, ClientFactory
from routes import services as routes
from webhooks.models import Delivery, Event
from webhooks.tests.conftest import ACTOR, deliver_due, make_endpoint

pytestmark = pytest.mark.django_db

CONFIG = """
routes:
  - {domain: "*", pattern: /api/orders/*, methods: {GET: api_key}}
clients:
  - name: newcomer
    permissions: [{domain: "*", pattern: /api/orders/*, methods: [GET]}]
"""


class RolledBack(Exception):
    pass


def test_an_admin_change_that_rolls_back_sends_nothing(receiver, admin_client):
    make_endpoint(receiver)
    queued = []

    def change_then_fail() -> None:
        with transaction.atomic():
            response = admin_client.post(
                reverse("admin:clients_client_add"),
                {"name": "fleeting", "status": "active", "description": ""},
            )
            assert response.status_code == 302
            queued.extend(Event.objects.values_list("type", flat=True))
            raise RolledBack  # the transaction fails after the change (a commit that fails)

    with pytest.raises(RolledBack):
        change_then_fail()

    assert queued == ["client.created"], "queued with the change, in its transaction"
    assert not Client.objects.filter(name="fleeting").exists()
    assert not Event.objects.exists()
    assert deliver_due() == 0
    assert receiver.requests == []


def test_the_same_admin_change_committed_is_sent(receiver, admin_client):
    make_endpoint(receiver)
    admin_client.post(
        reverse("admin:clients_client_add"),
        {"name": "lasting", "status": "active", "description": ""},
    )
    deliver_due()
    (request,) = receiver.wait_for(1)
    assert request.json()["data"]["client"]["name"] == "lasting"
    assert request.json()["data"]["actor"] == "user:admin"


def test_a_config_file_that_fails_halfway_sends_nothing(receiver, tmp_path):
    ApiKeyFactory(client=ClientFactory(name="holder"), plaintext="shared-legacy-key-1")
    make_endpoint(receiver)
    config = tmp_path / "config.yaml"
    config.write_text(
        CONFIG + "  - name: copycat\n    credentials: [{kind: api_key, key: shared-legacy-key-1}]\n"
    )

    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("apply_config", str(config), stdout=StringIO())

    assert not Event.objects.exists()
    assert deliver_due() == 0


def test_a_dry_run_sends_nothing_and_an_apply_sends_one_config_applied(receiver, tmp_path):
    make_endpoint(receiver, events=["config.applied", "route.changed"])
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)

    call_command("apply_config", str(config), "--dry-run", stdout=StringIO())
    assert not Event.objects.exists()

    call_command("apply_config", str(config), stdout=StringIO())
    call_command("apply_config", str(config), stdout=StringIO())  # no change: no event
    deliver_due()

    types = sorted(r.type for r in receiver.requests)
    assert types == ["config.applied", "route.changed"]
    applied = next(r for r in receiver.requests if r.type == "config.applied").json()["data"]
    assert applied["counts"] == {"created": 3, "updated": 0, "deleted": 0, "unchanged": 0}
    assert applied["actor"].startswith("cli:")
    assert AuditEvent.objects.filter(action="config.applied").count() == 1


def test_nothing_is_queued_when_no_endpoint_wants_the_event(receiver):
    make_endpoint(receiver, events=["route.changed"])
    clients.create_client(name="acme", actor=ACTOR)
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_a_client_filter_narrows_client_events_only(receiver):
    watched = clients.create_client(name="watched", actor=ACTOR)
    make_endpoint(receiver, client_ids=[str(watched.pk)])
    other = clients.create_client(name="other", actor=ACTOR)
    clients.set_client_status(other, "suspended", actor=ACTOR)
    clients.set_client_status(watched, "suspended", actor=ACTOR)
    routes.create_route(domain="*", pattern="/x", actor=ACTOR)
    deliver_due()

    sent = [(r.type, r.json()["data"].get("client", {}).get("name")) for r in receiver.requests]
    assert sorted(sent) == [("client.status_changed", "watched"), ("route.changed", None)]
