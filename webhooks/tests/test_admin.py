"""Webhooks in the admin: endpoints with their secret shown once, the buttons, and the
delivery log with "redeliver"; viewers see it all and change nothing."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from clients import services as clients
from webhooks import actions
from webhooks.models import Delivery, Endpoint, EventType
from webhooks.tests.conftest import ACTOR, deliver_due, make_endpoint
from webhooks.tests.receiver import always

pytestmark = pytest.mark.django_db

ENDPOINTS = reverse("admin:webhooks_endpoint_changelist")
ADD = reverse("admin:webhooks_endpoint_add")
DELIVERIES = reverse("admin:webhooks_delivery_changelist")
SECRET = re.compile(rb"whsec_[A-Za-z0-9+/=]{44}")
BUTTONS = ["Rotate signing secret", "Send a test webhook</button>", 'name="_save"']


def add_form(url: str, **extra) -> dict:
    return {
        "name": "ops",
        "url": url,
        "description": "",
        "events": ["client.created", "rate_limit.exceeded"],
        "cooldown_seconds": "300",
        **extra,
    }


def test_adding_an_endpoint_shows_its_secret_once(admin_client, receiver):
    response = admin_client.post(ADD, add_form(receiver.url()))
    assert response.status_code == 302
    page = admin_client.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    (secret,) = SECRET.findall(page.content)

    again = admin_client.get(response["Location"])
    assert again.status_code == 410
    assert b'id="already-shown"' in again.content
    assert not SECRET.search(again.content)

    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["client.created", "rate_limit.exceeded"]
    for url in (ENDPOINTS, reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])):
        assert secret not in admin_client.get(url).content
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert secret.decode() not in dump.getvalue()

    clients.create_client(name="acme", actor=ACTOR)
    deliver_due()
    receiver.verify(secret.decode())


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://10.0.0.5/hook", "a private address"),
        ("http://localhost:9000/hook", "a loopback address"),
        ("ftp://hooks.example.com/", "http:// or https://"),
    ],
)
def test_a_refused_url_is_a_field_error_and_nothing_is_made(admin_client, url, error):
    response = admin_client.post(ADD, add_form(url))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Endpoint.objects.exists()


def test_rotating_shows_the_new_secret_once(admin_client, receiver):
    endpoint, old = make_endpoint(receiver)
    response = admin_client.post(reverse("admin:webhooks_endpoint_rotate", args=[endpoint.pk]))
    (new,) = SECRET.findall(admin_client.get(response["Location"]).content)
    assert new.decode() != old
    assert AuditEvent.objects.filter(action=actions.ENDPOINT_SECRET_ROTATED).exists()


def test_a_test_webhook_from_the_endpoint_page(admin_client, receiver):
    endpoint, secret = make_endpoint(receiver, events=["route.changed"])
    response = admin_client.post(reverse("admin:webhooks_endpoint_test", args=[endpoint.pk]))
    assert response.status_code == 302
    deliver_due()
    (request,) = receiver.wait_for(1)
    assert request.type == EventType.TEST
    receiver.verify(secret)
    page = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert b"webhook.test" in page.content, "the latest deliveries are on the page"


def test_the_send_test_action_queues_one_per_endpoint(admin_client, receiver):
    first, _ = make_endpoint(receiver, name="first")
    second, _ = make_endpoint(receiver, name="second")
    admin_client.post(ENDPOINTS, {"action": "send_test", "_selected_action": [first.pk, second.pk]})
    assert Delivery.objects.filter(event__type=EventType.TEST).count() == 2


def test_disable_and_enable_buttons(admin_client, receiver):
    endpoint, _ = make_endpoint(receiver)
    state = reverse("admin:webhooks_endpoint_state", args=[endpoint.pk])
    admin_client.post(state, {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_reason == "Disabled by admin."
    assert b"disabled" in admin_client.get(ENDPOINTS).content
    admin_client.post(state, {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.active


def test_the_delivery_log_shows_the_answer_and_redelivers(admin_client, receiver):
    receiver.script = always(500, b"Internal oops: <b>trace</b>")
    make_endpoint(receiver)
    clients.create_client(name="acme", actor=ACTOR)
    deliver_due()
    delivery = Delivery.objects.get()

    listing = admin_client.get(DELIVERIES).content.decode()
    assert "client.created" in listing
    assert "500" in listing
    page = admin_client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    content = page.content.decode()
    assert "Internal oops: &lt;b&gt;trace&lt;/b&gt;" in content, "the answer, escaped"
    assert delivery.event.message_id in content
    assert "&quot;client.created&quot;" in content, "the payload as sent"

    receiver.script = always(200)
    admin_client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]})
    deliver_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert receiver.requests[0].message_id == receiver.requests[-1].message_id


def test_the_delivery_log_costs_the_same_queries_for_many_rows(admin_client, receiver):
    make_endpoint(receiver)
    clients.create_client(name="one", actor=ACTOR)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(DELIVERIES)
    for number in range(20):
        clients.create_client(name=f"more-{number}", actor=ACTOR)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(DELIVERIES)
    assert len(many) == len(few)


@pytest.fixture
def viewer_client(client):
    viewer = User.objects.create_user("viewer", password="viewer-password-1", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_endpoint", "view_delivery"])
    )
    client.force_login(viewer)
    return client


def test_a_viewer_sees_endpoints_and_deliveries_and_changes_nothing(viewer_client, receiver):
    endpoint, _ = make_endpoint(receiver)
    clients.create_client(name="acme", actor=ACTOR)
    delivery = Delivery.objects.get()
    for url in (
        ENDPOINTS,
        reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
        DELIVERIES,
        reverse("admin:webhooks_delivery_change", args=[delivery.pk]),
    ):
        response = viewer_client.get(url)
        assert response.status_code == 200, url
        for button in BUTTONS:
            assert button not in response.content.decode(), (url, button)
    before = AuditEvent.objects.count()
    for url in (
        reverse("admin:webhooks_endpoint_rotate", args=[endpoint.pk]),
        reverse("admin:webhooks_endpoint_test", args=[endpoint.pk]),
        reverse("admin:webhooks_endpoint_state", args=[endpoint.pk]),
    ):
        assert viewer_client.post(url).status_code == 403, url
    viewer_client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]})
    assert AuditEvent.objects.count() == before
