"""Retries with backoff, and what sustained failure does: against real receivers that fail,
hang, answer 410 or too much, with the retry schedule compressed to seconds."""

from __future__ import annotations

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from audit.models import AuditEvent
from clients import services as clients
from webhooks import actions, services
from webhooks.delivery import backoff
from webhooks.models import Delivery, Endpoint
from webhooks.tests.conftest import ACTOR, deliver_due, deliver_until, make_endpoint
from webhooks.tests.receiver import Reply, always, fail_first, receiving

pytestmark = pytest.mark.django_db


def attempts_counted(outcome: str) -> float:
    labels = {"outcome": outcome}
    return REGISTRY.get_sample_value("gatekeeper_webhook_deliveries_total", labels) or 0.0


def test_a_receiver_that_fails_twice_gets_the_event_three_times_with_one_id(receiver):
    receiver.script = fail_first(2)
    endpoint, secret = make_endpoint(receiver, events=["client.created"])
    delivered_before = attempts_counted("delivered")
    clients.create_client(name="acme", actor=ACTOR)

    deliver_until(lambda: len(receiver.requests) >= 3)

    first, second, third = receiver.requests
    assert first.message_id == second.message_id == third.message_id
    assert first.body == second.body == third.body
    receiver.verify(secret)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)
    endpoint.refresh_from_db()
    assert endpoint.active
    assert endpoint.failing_since is None, "a success ends the failing period"
    assert attempts_counted("delivered") == delivered_before + 1


def test_a_receiver_down_for_the_whole_retry_period_gets_its_endpoint_disabled(
    receiver, admin_client
):
    receiver.script = always(503, b"down for maintenance")
    endpoint, _ = make_endpoint(receiver, events=["client.created"])
    with receiving() as colleague:
        make_endpoint(colleague, name="watch", events=["endpoint.disabled"])
        clients.create_client(name="acme", actor=ACTOR)

        deliver_until(lambda: not Endpoint.objects.get(pk=endpoint.pk).active)
        deliver_due()
        (notice,) = colleague.wait_for(1)

    assert len(receiver.requests) == 3, "the first attempt and both retries"
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.response_excerpt == "down for maintenance"
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "No delivery succeeded since" in endpoint.disabled_reason
    audit = AuditEvent.objects.get(action=actions.ENDPOINT_DISABLED)
    assert (audit.actor, audit.detail["automatic"]) == ("system:webhooks", True)
    assert notice.json()["data"]["endpoint"]["name"] == "ops"
    assert notice.json()["data"]["automatic"] is True
    page = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert b'id="endpoint-disabled"' in page.content
    assert endpoint.disabled_reason.encode() in page.content


def test_one_dead_delivery_does_not_disable_an_endpoint_that_takes_others(receiver):
    """Sustained failure is failure of everything: a receiver that rejects one event but
    takes the rest stays enabled."""
    receiver.script = lambda request, n: Reply(422) if "picky" in request.body.decode() else Reply()
    endpoint, _ = make_endpoint(receiver, events=["client.created"])
    clients.create_client(name="picky", actor=ACTOR)
    deliver_due()
    clients.create_client(name="easy", actor=ACTOR)

    deliver_until(lambda: Delivery.objects.filter(status="pending").count() == 0)

    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed", "delivered"}
    endpoint.refresh_from_db()
    assert endpoint.active


def test_410_gone_disables_the_endpoint_at_once(receiver):
    receiver.script = always(410, b"gone")
    endpoint, _ = make_endpoint(receiver, events=["client.created"])
    clients.create_client(name="acme", actor=ACTOR)
    clients.create_client(name="beta", actor=ACTOR)

    deliver_due()

    assert len(receiver.requests) == 1, "nothing more after the 410"
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "410" in endpoint.disabled_reason
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["failed", "pending"], "the other delivery waits for the endpoint"

    receiver.script = always(200)
    services.enable_endpoint(endpoint, actor=ACTOR)
    deliver_due()
    assert [r.json()["data"]["client"]["name"] for r in receiver.requests] == ["acme", "beta"]


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout(receiver, settings):
    settings.GATEKEEPER_WEBHOOK_TIMEOUT = 1.0
    receiver.script = lambda request, n: Reply(hang=4.0)
    make_endpoint(receiver, events=["client.created"])
    clients.create_client(name="acme", actor=ACTOR)

    deliver_due(timeout=1.0)

    delivery = Delivery.objects.get()
    assert delivery.error == "no answer within 1s"
    assert delivery.status == Delivery.Status.PENDING, "retried later"


def test_only_the_first_bytes_of_a_large_answer_are_read_and_kept(receiver):
    # Words, not one long run: a run of one letter is some test's made-up secret.
    receiver.script = always(500, b"too long " * 25_000)
    make_endpoint(receiver, events=["client.created"])
    clients.create_client(name="acme", actor=ACTOR)

    deliver_due()

    delivery = Delivery.objects.get()
    assert delivery.response_excerpt == ("too long " * 200)[:1024]
    assert delivery.error == "answered 500"


def test_a_redelivery_sends_the_same_message_again(receiver):
    _, secret = make_endpoint(receiver, events=["client.created"])
    clients.create_client(name="acme", actor=ACTOR)
    deliver_due()

    assert services.redeliver(Delivery.objects.all(), actor=ACTOR) == 1
    deliver_due()

    first, again = receiver.wait_for(2)
    assert first.message_id == again.message_id
    receiver.verify(secret)
    assert AuditEvent.objects.filter(action=actions.DELIVERIES_REDELIVERED).count() == 1


def test_the_schedule_waits_longer_each_time_and_varies_by_a_fifth():
    schedule = [5, 30, 120]
    assert backoff(1, schedule, rand=lambda: 0.5) == 5
    assert backoff(2, schedule, rand=lambda: 0.0) == 30 * 0.8
    assert backoff(3, schedule, rand=lambda: 1.0) == 120 * 1.2
    assert backoff(4, schedule) is None, "no retry after the last wait"


def test_the_default_schedule_spans_about_a_day(settings):
    from gatekeeper_project import settings as real

    total = sum(real.GATEKEEPER_WEBHOOK_RETRY_SCHEDULE)
    assert 20 * 3600 <= total <= 28 * 3600
    assert sorted(real.GATEKEEPER_WEBHOOK_RETRY_SCHEDULE) == real.GATEKEEPER_WEBHOOK_RETRY_SCHEDULE
