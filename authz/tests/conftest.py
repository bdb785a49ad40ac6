"""A small world of routes, clients and credentials, built through the real services, and a
helper that asks `/authz` the way nginx does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from byteforge_hmac import HMACClient
from django.utils import timezone

from authz import runtime
from authz.tests.decider import DeciderClient
from clients import services as clients
from clients.models import Credential
from core.actor import Actor
from permissions import services as permissions
from routes import services as routes

ACTOR = Actor.system("tests")


@dataclass
class World:
    public: object
    data: object
    admin: object
    acme: object
    acme_key: str
    acme_secret: str
    expired_key: str
    suspended_key: str
    revoked_key: str
    stranger_key: str

    def signer(self, secret: str | None = None, client_id: str | None = None) -> HMACClient:
        return HMACClient(client_id or str(self.acme.id), secret or self.acme_secret)


@pytest.fixture
def world(db) -> World:
    public = routes.create_route(
        domain="*", pattern="/api/public/*", methods={"GET": "public"}, actor=ACTOR
    )
    data = routes.create_route(
        domain="*",
        pattern="/api/data/*",
        methods={"GET": "api_key", "POST": "hmac", "PUT": "any", "DELETE": "api_key"},
        actor=ACTOR,
    )
    admin = routes.create_route(
        domain="*", pattern="/api/admin/*", methods={"GET": "api_key"}, actor=ACTOR
    )
    acme = clients.create_client(name="acme", actor=ACTOR)
    acme_key = clients.issue_api_key(acme, actor=ACTOR).plaintext
    acme_secret = clients.issue_hmac_secret(acme, actor=ACTOR).plaintext
    expired = clients.issue_api_key(
        acme, actor=ACTOR, expires_at=timezone.now() + timedelta(days=1)
    )
    # Time passes: the key has expired since it was issued.
    Credential.objects.filter(pk=expired.credential.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    expired_key = expired.plaintext
    permissions.grant(acme, data, ["GET", "POST", "PUT"], actor=ACTOR)

    sleepy = clients.create_client(name="sleepy", status="suspended", actor=ACTOR)
    gone = clients.create_client(name="gone", status="revoked", actor=ACTOR)
    stranger = clients.create_client(name="stranger", actor=ACTOR)
    for client in (sleepy, gone):
        permissions.grant(client, data, ["GET"], actor=ACTOR)
    return World(
        public=public,
        data=data,
        admin=admin,
        acme=acme,
        acme_key=acme_key,
        acme_secret=acme_secret,
        expired_key=expired_key,
        suspended_key=clients.issue_api_key(sleepy, actor=ACTOR).plaintext,
        revoked_key=clients.issue_api_key(gone, actor=ACTOR).plaintext,
        stranger_key=clients.issue_api_key(stranger, actor=ACTOR).plaintext,
    )


@pytest.fixture
def decider(db) -> DeciderClient:
    """The decision server, in-process; each request decides from a snapshot rebuilt just
    before it (tests run inside a transaction that the decision server's own refresher
    thread could not see)."""
    runtime.reset()
    return DeciderClient(before=_fresh_snapshot)


def _fresh_snapshot() -> None:
    holder = runtime.get_runtime().holder
    holder.invalidate()
    holder.refresh()


@pytest.fixture
def ask(decider):
    """`ask(method, uri, host=..., **extra_wsgi)` -> the /authz response, from a fresh snapshot.
    The runtime itself (nonces, rate-limit counters) is reset once per test."""

    def ask(
        method: str, uri: str, *, host: str = "api.example.com", body: bytes = b"", **extra: str
    ):
        headers = {
            "HTTP_X_ORIGINAL_METHOD": method,
            "HTTP_X_ORIGINAL_URI": uri,
            "HTTP_X_ORIGINAL_HOST": host,
        }
        headers.update(extra)
        meta = {k: v for k, v in headers.items() if v is not None}
        return decider.generic("GET", "/authz", body, **meta)

    return ask
