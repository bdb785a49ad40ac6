"""Snapshots patched from the change log equal snapshots built whole, after any sequence of
changes made through the services (the way the admin, commands, config file and API make
them). A patch that missed a change would decide from stale rules: this is the guard."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from authz.build import DatabaseSource, build_snapshot
from authz.refresh import SnapshotHolder
from authz.snapshot import Snapshot
from authz.tests.conftest import ACTOR
from clients import services as clients
from clients.models import Client, Credential
from core import config_version
from permissions import services as permissions
from permissions.models import Permission
from routes import services as routes
from routes.models import Route

pytestmark = pytest.mark.django_db


def comparable(snap: Snapshot) -> dict:
    return {
        "routes": dict(snap.routes),
        "clients": {
            cid: (
                entry.name,
                entry.status,
                dict(entry.permissions),
                sorted((s.credential_id, s.secret, s.expires_at) for s in entry.hmac_secrets),
                sorted(entry.limits, key=repr),
            )
            for cid, entry in snap.clients.items()
        },
        "api_keys": dict(snap.api_keys),
        "revoked_keys": dict(snap.revoked_keys),
        "matches": [
            getattr(snap.index.match(host, path), "id", None)
            for host in ("api.example.com", "other.example.org")
            for path in ("/api/data/x", "/api/x1/y", "/api/x2/7", "/nowhere")
        ],
    }


class Changes:
    """Random changes through the services, each of a kind the log must describe."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0

    def pick(self, queryset):
        items = list(queryset)
        return self.rng.choice(items) if items else None

    def run(self) -> str:
        self.n += 1
        kind = self.rng.choice(
            ["client", "status", "delete_client", "key", "hmac", "revoke", "rotate", "grant",
             "ungrant", "limit", "route", "methods", "delete_route"]
        )  # fmt: skip
        client = self.pick(Client.objects.all())
        route = self.pick(Route.objects.all())
        if kind == "client" or client is None:
            clients.create_client(name=f"c{self.n}", actor=ACTOR)
        elif kind == "status":
            status = self.rng.choice(["active", "suspended", "revoked"])
            clients.set_client_status(client, status, actor=ACTOR)
        elif kind == "delete_client":
            clients.delete_client(client, actor=ACTOR)
        elif kind == "key":
            soon = timezone.now() + timedelta(hours=1)
            clients.issue_api_key(client, expires_at=self.rng.choice([None, soon]), actor=ACTOR)
        elif kind == "hmac":
            clients.issue_hmac_secret(client, actor=ACTOR)
        elif kind == "revoke":
            credential = self.pick(Credential.objects.filter(revoked_at__isnull=True))
            if credential is not None:
                clients.revoke_credential(credential, actor=ACTOR)
        elif kind == "rotate":
            clients.rotate_credentials(
                client, kind="api_key", grace=timedelta(minutes=5), actor=ACTOR
            )
        elif kind == "grant" and route is not None and route.method_rules():
            methods = list(route.method_rules())
            permissions.grant(
                client, route, methods[: self.rng.randint(1, len(methods))], actor=ACTOR
            )
        elif kind == "ungrant":
            permission = self.pick(Permission.objects.all())
            if permission is not None:
                permissions.revoke(permission.client, permission.route, actor=ACTOR)
        elif kind == "limit":
            permissions.set_rate_limit(
                client, limit=self.rng.randint(1, 100), window="minute", actor=ACTOR
            )
        elif kind == "route" or route is None:
            routes.create_route(
                domain=self.rng.choice(["*", "api.example.com"]),
                pattern=f"/api/x{self.n}/*",
                methods={"GET": "api_key"},
                actor=ACTOR,
            )
        elif kind == "methods":
            routes.set_route_methods(
                route, {"GET": self.rng.choice(["api_key", "hmac", "public"])}, actor=ACTOR
            )
        elif kind == "delete_route":
            routes.delete_route(route, actor=ACTOR)
        return kind


@pytest.mark.parametrize("seed", range(10))
def test_patched_snapshots_equal_whole_builds_after_any_changes(world, seed):
    source = DatabaseSource()
    holder = SnapshotHolder(source=source)
    holder.refresh()
    changes = Changes(random.Random(seed))
    patched = 0
    for _ in range(30):
        before = config_version.position()
        kind = changes.run()
        marks = config_version.last_change()
        whole_before = holder._whole_at
        # A change that changed nothing (a status set to what it was) logs nothing.
        assert holder.refresh() is (config_version.position() != before)
        patched += holder._whole_at == whole_before
        expected = build_snapshot(config_version.current())
        assert comparable(holder.get()) == comparable(expected), f"after {kind} (log {marks})"
    assert patched == 30, "changes are applied as patches, never whole builds"


def test_a_bulk_change_of_unknown_scope_rebuilds_everything(world):
    holder = SnapshotHolder(source=DatabaseSource())
    holder.refresh()
    whole_before = holder._whole_at
    Client.objects.filter(pk=world.acme.pk).update(status="suspended")
    config_version.bump()  # what bulk writers call: no scope named
    assert holder.refresh()
    assert holder._whole_at > whole_before
    assert holder.get().clients[str(world.acme.pk)].status == "suspended"


def test_no_patch_relies_on_a_pruned_log_row():
    from authz.refresh import WHOLE_BUILD_EVERY

    assert config_version.LOG_KEPT.total_seconds() > WHOLE_BUILD_EVERY
