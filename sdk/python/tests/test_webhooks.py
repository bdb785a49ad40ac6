"""verify_webhook against the `standardwebhooks` package (the specification's own library):
what it signs verifies here, and on any input both accept or both refuse."""

from __future__ import annotations

import base64
import hmac
import json
import time
from datetime import datetime, timezone
from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError as TheirError

from gatekeeper_client import WebhookVerificationError, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"gatekeeper-webhook-test-key-32by").decode()
OTHER = "whsec_" + base64.b64encode(b"another-webhook-secret-key-32byt").decode()
BODY = json.dumps({"id": "evt_1", "type": "client.status_changed", "data": {"to": "é"}}).encode()


def signed(body: bytes = BODY, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """Headers as a Standard Webhooks sender (the reference library) makes them."""
    timestamp = int(time.time()) if at is None else at
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    signature = Webhook(secret).sign("msg_2b3c", when, body.decode())
    return {
        "webhook-id": "msg_2b3c",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def theirs_accept(body: bytes, headers: dict[str, str], secret: str = SECRET) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except TheirError:
        return False
    return True


def ours_accept(body: bytes, headers: dict[str, str], secret: str = SECRET) -> bool:
    try:
        verify_webhook(body, headers, secret)
    except WebhookVerificationError:
        return False
    return True


def test_a_webhook_signed_by_the_reference_library_verifies():
    verify_webhook(BODY, signed(), SECRET)


def test_header_names_are_matched_whatever_their_case():
    headers = {name.title(): value for name, value in signed().items()}
    verify_webhook(BODY, headers, SECRET)


def test_during_rotation_any_one_valid_v1_signature_is_enough():
    headers = signed()
    old = signed(secret=OTHER, at=int(headers["webhook-timestamp"]))["webhook-signature"]
    headers["webhook-signature"] = f"v1a,c29tZXRoaW5n {old} {headers['webhook-signature']}"

    verify_webhook(BODY, headers, SECRET)
    verify_webhook(BODY, headers, OTHER)
    assert theirs_accept(BODY, headers, OTHER)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda b, h: (b + b" ", h), id="body-changed"),
        pytest.param(lambda b, h: (b, {**h, "webhook-id": "msg_other"}), id="id-changed"),
        pytest.param(
            lambda b, h: (b, {**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}),
            id="timestamp-changed",
        ),
        pytest.param(
            lambda b, h: (
                b,
                {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")},
            ),
            id="unknown-version-only",
        ),
        pytest.param(
            lambda b, h: (b, {k: v for k, v in h.items() if k != "webhook-id"}), id="no-id"
        ),
        pytest.param(
            lambda b, h: (b, {k: v for k, v in h.items() if k != "webhook-signature"}),
            id="no-signature",
        ),
    ],
)
def test_a_changed_or_incomplete_webhook_is_refused_by_both(change):
    body, headers = change(BODY, signed())

    assert not theirs_accept(body, headers)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, headers, SECRET)


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-301, False), (-299, True), (299, True), (301, False)]
)
def test_the_timestamp_must_be_within_five_minutes(offset, accepted):
    now = 1_800_000_000
    headers = signed(at=now + offset)
    if accepted:
        verify_webhook(BODY, headers, SECRET, now=now)
    else:
        with pytest.raises(WebhookVerificationError, match=r"old|future"):
            verify_webhook(BODY, headers, SECRET, now=now)


def test_a_webhook_signed_with_another_secret_is_refused():
    with pytest.raises(WebhookVerificationError, match="no valid signature"):
        verify_webhook(BODY, signed(secret=OTHER), SECRET)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", b""])
def test_a_malformed_secret_is_a_programming_error_not_a_bad_webhook(secret):
    with pytest.raises(ValueError, match="secret") as raised:
        verify_webhook(BODY, signed(), secret)
    assert not isinstance(raised.value, WebhookVerificationError)


def test_a_secret_without_its_padding_still_works():
    verify_webhook(BODY, signed(), SECRET.rstrip("="))


def test_the_raw_key_may_be_given_as_bytes():
    verify_webhook(BODY, signed(), b"gatekeeper-webhook-test-key-32by")


TEXT = st.text(max_size=200).map(lambda text: text.encode("utf-8"))


@given(body=TEXT, tamper=st.one_of(st.none(), TEXT), rotate=st.booleans())
def test_both_libraries_agree_on_any_body(body, tamper, rotate):
    headers = signed(body)
    if rotate:
        other = signed(body, secret=OTHER, at=int(headers["webhook-timestamp"]))
        headers["webhook-signature"] = (
            f"{other['webhook-signature']} {headers['webhook-signature']}"
        )
    sent = body if tamper is None else tamper

    assert ours_accept(sent, headers) == theirs_accept(sent, headers)
    assert ours_accept(sent, headers) == (sent == body)


@given(st.binary(max_size=100))
def test_any_bytes_verify_even_where_the_reference_library_cannot_decode_them(body):
    timestamp = int(time.time())
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, b"msg_1.%d." % timestamp + body, sha256).digest()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
    verify_webhook(body, headers, SECRET)
