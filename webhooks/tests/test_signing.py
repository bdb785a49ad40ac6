"""Signatures any Standard Webhooks library verifies; secrets generated, sealed and rotated
with a grace period in which both sign; and the secret scan knows webhook secrets."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as ReferenceRejected

from clients import encryption
from clients import services as clients
from core.tests import secret_scan
from gatekeeper_client import WebhookVerificationError, verify_webhook
from webhooks import services, signing
from webhooks.models import Endpoint
from webhooks.tests.conftest import ACTOR, deliver_due, make_endpoint

pytestmark = pytest.mark.django_db

SECRET = signing.generate()


def test_a_secret_is_whsec_and_32_random_bytes():
    secret = signing.generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != signing.generate()


@given(
    message_id=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    body=st.binary(max_size=2000).map(lambda raw: raw.decode("latin-1").encode()),
)
def test_both_verifiers_accept_what_gatekeeper_signs_and_refuse_a_changed_body(message_id, body):
    stamp = int(time.time())
    headers = signing.headers([SECRET], message_id, stamp, body)
    Webhook(SECRET).verify(body, headers, json_parse=False)
    verify_webhook(body, headers, SECRET)
    with pytest.raises(ReferenceRejected):
        Webhook(SECRET).verify(body + b" ", headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body + b" ", headers, SECRET)


def test_the_signature_is_the_specifications_example():
    """The example of the Standard Webhooks specification, byte for byte."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_a_rotated_endpoint_is_signed_with_both_secrets_until_the_grace_ends(receiver):
    endpoint, old = make_endpoint(receiver, events=["client.created"])
    new = services.rotate_secret(endpoint, grace=timedelta(hours=1), actor=ACTOR).plaintext
    clients.create_client(name="acme", actor=ACTOR)
    deliver_due()
    (during,) = receiver.wait_for(1)
    assert during.headers["webhook-signature"].count("v1,") == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)

    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    clients.create_client(name="beta", actor=ACTOR)
    deliver_due()
    after = receiver.wait_for(2)[1]
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(ReferenceRejected):
        Webhook(old).verify(after.body, after.headers)


def test_a_rotation_without_grace_stops_the_old_secret_at_once():
    created = services.create_endpoint(
        name="ops", url="https://hooks.example.com/", events=["client.created"], actor=ACTOR
    )
    rotated = services.rotate_secret(created.endpoint, grace=timedelta(0), actor=ACTOR)
    endpoint = Endpoint.objects.get()
    assert endpoint.signing_secrets(timezone.now()) == [rotated.plaintext]
    assert endpoint.previous_secret_encrypted == ""


def test_the_secret_is_stored_sealed_and_never_in_the_audit_row():
    created = services.create_endpoint(
        name="ops", url="https://hooks.example.com/", events=["client.created"], actor=ACTOR
    )
    stored = Endpoint.objects.get()
    assert created.plaintext not in stored.secret_encrypted
    assert encryption.unseal(stored.secret_encrypted) == created.plaintext
    assert created.plaintext not in repr(created)
    # The session-wide scan reads every audit and webhook row at teardown as well.


def test_the_secret_scan_looks_for_webhook_secrets_and_their_base64():
    created = services.create_endpoint(
        name="ops", url="https://hooks.example.com/", events=["client.created"], actor=ACTOR
    )
    found = secret_scan._scan.secrets.found_in
    tail = created.plaintext.removeprefix("whsec_")
    assert found(f"leaked: {created.plaintext}!")
    assert found(f"key={tail}")
    assert not found("whsec_" + base64.b64encode(b"\0" * 32).decode())
