"""A secret the API issues is in exactly one answer: the one that issued it, marked no-store.
(The suite-wide secret scan also reads every API answer and fails a test on any other.)"""

from __future__ import annotations

import pytest

from clients.tests.factories import ClientFactory
from core.tests.secret_scan import Secrets

pytestmark = pytest.mark.django_db


def later_answers(api, client_id: str) -> str:
    return "\n".join(
        api.get(url).content.decode()
        for url in (
            "/api/v1/credentials/",
            f"/api/v1/credentials/?client={client_id}",
            f"/api/v1/clients/{client_id}/",
            "/api/v1/audit-events/",
            "/api/v1/config",
        )
    )


@pytest.mark.parametrize("kind", ["api_key", "hmac"])
def test_an_issued_secret_is_only_in_the_answer_that_issued_it(api, kind):
    acme = ClientFactory(name="acme")
    issued = api.post("/api/v1/credentials/", {"client": str(acme.pk), "kind": kind}, format="json")

    assert issued.status_code == 201
    assert issued["Cache-Control"] == "no-store"
    secret = issued.json()["secret"]
    assert len(secret) >= 32
    assert secret not in later_answers(api, str(acme.pk))
    shown = api.get(f"/api/v1/credentials/{issued.json()['id']}/").json()
    assert "secret" not in shown
    assert shown["prefix"] == issued.json()["prefix"]


def test_a_rotation_shows_the_new_secret_once_and_names_the_retiring_one(api):
    acme = ClientFactory(name="acme")
    first = api.post("/api/v1/credentials/", {"client": str(acme.pk), "kind": "api_key"}).json()
    rotated = api.post(
        "/api/v1/credentials/rotate/",
        {"client": str(acme.pk), "kind": "api_key", "grace_seconds": 60},
        format="json",
    )
    body = rotated.json()
    assert rotated["Cache-Control"] == "no-store"
    assert [old["prefix"] for old in body["retiring"]] == [first["prefix"]]
    assert body["secret"] not in later_answers(api, str(acme.pk))


def test_an_imported_key_is_never_shown_back(api):
    acme = ClientFactory(name="acme")
    key = "legacy-key-0123456789-abcdef"
    issued = api.post(
        "/api/v1/credentials/",
        {"client": str(acme.pk), "kind": "api_key", "key": key},
        format="json",
    )
    assert issued.status_code == 201
    assert issued.json()["secret"] == key
    taken = api.post(
        "/api/v1/credentials/",
        {"client": str(acme.pk), "kind": "api_key", "key": key},
        format="json",
    )
    assert taken.json()["errors"] == [
        {"location": "key", "message": "This API key is already in use."}
    ]
    assert key not in taken.content.decode()


def test_a_key_sent_to_explain_is_never_shown_back(api):
    key = "gk_abcdefgh_" + "K" * 32
    answer = api.post(
        "/api/v1/explain",
        {"host": "h.example", "uri": "/x", "headers": [f"Authorization: Bearer {key}"]},
        format="json",
    )
    assert answer.status_code == 200
    assert "K" * 16 not in answer.content.decode()
    bad = api.post("/api/v1/explain", {"host": "h", "uri": "/x", "headers": [key]}, format="json")
    assert bad.status_code == 400
    assert "K" * 16 not in bad.content.decode()


def test_the_scan_tells_the_issuing_answer_from_a_later_one():
    secrets = Secrets()
    key = "gk_abcdefgh_" + "Z" * 32
    secrets.add(key)
    assert not secrets.found_in(f'{{"secret": "{key}"}}', allowed=frozenset({key}))
    assert secrets.found_in(f'{{"secret": "{key}"}}')
    assert secrets.found_in("Z" * 32)
