"""Endpoint rules, kept by the model and the services (every adapter gets them from there),
and the system check about allowed networks."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from audit.models import AuditEvent
from clients import services as clients
from webhooks import actions, services
from webhooks.models import Endpoint
from webhooks.tests.conftest import ACTOR, deliver_due, make_endpoint

pytestmark = pytest.mark.django_db

PUBLIC = "https://hooks.example.com/gatekeeper"


def create(**extra):
    return services.create_endpoint(
        **{"name": "ops", "url": PUBLIC, "events": ["client.created"], "actor": ACTOR, **extra}
    )


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"events": []}, "events", "at least one"),
        ({"events": ["client.created", "client.exploded"]}, "events", "client.exploded"),
        ({"events": ["webhook.test"]}, "events", "webhook.test"),
        ({"client_ids": ["not-a-uuid"]}, "client_ids", "UUID"),
        ({"cooldown_seconds": 0}, "__all__", "1 second to 7 days"),
        ({"cooldown_seconds": 8 * 86400}, "__all__", "1 second to 7 days"),
        ({"name": "has space"}, "__all__", "letters, digits"),
        ({"url": "https://[::1]/x"}, "url", "loopback"),
    ],
)
def test_bad_endpoints_are_refused_with_field_errors(extra, field, message):
    with pytest.raises(ValidationError) as refused:
        create(**extra)
    assert message in " ".join(refused.value.message_dict[field])
    assert not Endpoint.objects.exists()


def test_names_are_unique_in_any_case():
    create()
    with pytest.raises(ValidationError, match="already exists"):
        create(name="OPS")


def test_event_types_are_kept_in_their_canonical_order():
    endpoint = create(events=["route.changed", "client.created", "route.changed"]).endpoint
    assert endpoint.events == ["client.created", "route.changed"]


def test_an_update_is_audited_without_the_urls_query_and_a_no_op_is_not():
    endpoint = create().endpoint
    services.update_endpoint(endpoint, url=PUBLIC + "?token=receivers-own", actor=ACTOR)
    services.update_endpoint(endpoint, url=PUBLIC + "?token=receivers-own", actor=ACTOR)
    (row,) = AuditEvent.objects.filter(action=actions.ENDPOINT_UPDATED)
    assert row.detail["changed"]["url"] == [PUBLIC, PUBLIC + "?[redacted]"]
    assert "receivers-own" not in str(row.detail)


def test_a_filtered_clients_deletion_still_reaches_the_endpoint(receiver):
    acme = clients.create_client(name="acme", actor=ACTOR)
    make_endpoint(receiver, events=["client.deleted"], client_ids=[str(acme.pk)])
    clients.delete_client(acme, actor=ACTOR)
    deliver_due()
    (request,) = receiver.wait_for(1)
    assert request.json()["data"]["client"]["name"] == "acme"


def test_the_check_warns_when_an_allowed_network_holds_a_metadata_address(settings):
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = ["169.254.0.0/16"]
    with pytest.raises(SystemCheckError, match=r"webhooks\.W001"):
        call_command("check", "--fail-level", "WARNING")
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    call_command("check", "--fail-level", "WARNING")
