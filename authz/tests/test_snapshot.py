"""The snapshot: built from the real database, swapped when the config version changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from authz.build import build_snapshot
from authz.matching import RouteIndex
from authz.refresh import SnapshotHolder, SnapshotUnavailable
from authz.snapshot import Snapshot
from clients import services as clients
from clients.keys import digest
from core.actor import Actor

ACTOR = Actor.system("tests")


@pytest.mark.django_db
def test_build_reads_routes_keys_secrets_and_permissions(world):
    snap = build_snapshot("v1")
    assert snap.version == "v1"
    assert snap.index.match("any.host", "/api/data/x").id == world.data.id
    assert snap.routes[world.data.id].methods == {
        "GET": "api_key",
        "POST": "hmac",
        "PUT": "any",
        "DELETE": "api_key",
    }
    acme = snap.clients[str(world.acme.id)]
    assert acme.permissions[world.data.id] == frozenset({"GET", "POST", "PUT"})
    assert [s.secret for s in acme.hmac_secrets] == [world.acme_secret.encode()]
    assert snap.api_keys[digest(world.acme_key)].client_id == str(world.acme.id)
    assert world.acme_secret not in repr(acme)


@pytest.mark.django_db
def test_revoked_credentials_are_left_out(world):
    cred = clients.issue_api_key(world.acme, actor=ACTOR)
    clients.revoke_credential(cred.credential, actor=ACTOR)
    assert digest(cred.plaintext) not in build_snapshot(None).api_keys


@pytest.mark.django_db
def test_expiry_is_kept_for_the_engine_to_judge(world):
    soon = timezone.now() + timedelta(hours=1)
    cred = clients.issue_api_key(world.acme, actor=ACTOR, expires_at=soon)
    assert build_snapshot(None).api_keys[digest(cred.plaintext)].expires_at == soon.timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Builds:
    """Counts builds; fails while `down` is set, as a build with the database down does."""

    def __init__(self) -> None:
        self.count = 0
        self.down = False

    def __call__(self, version):
        if self.down:
            raise ConnectionError("database unreachable")
        self.count += 1
        return Snapshot(version, 0.0, RouteIndex([]), {}, {}, {})


@pytest.fixture
def parts():
    clock, builds, versions = Clock(), Builds(), {"now": "v1"}
    holder = SnapshotHolder(
        current_version=lambda: versions["now"],
        build=builds,
        max_age=60,
        clock=clock,
    )
    return holder, clock, builds, versions


def test_requests_never_build_a_snapshot(parts):
    holder, _, builds, _ = parts
    with pytest.raises(SnapshotUnavailable):
        holder.get()
    assert builds.count == 0, "building is the refresher's job, never a request's"
    holder.refresh()
    assert holder.get().version == "v1"


def test_a_changed_version_is_built_and_swapped_on_the_next_refresh(parts):
    holder, _, builds, versions = parts
    holder.refresh()
    versions["now"] = "v2"
    assert holder.get().version == "v1"
    assert holder.refresh() is True
    assert holder.get().version == "v2"
    assert builds.count == 2


def test_an_unchanged_version_does_not_rebuild(parts):
    holder, clock, builds, _ = parts
    for _ in range(10):
        holder.refresh()
        clock.now += 1
    assert builds.count == 1


def test_a_failed_rebuild_keeps_the_old_snapshot_and_recovers(parts):
    holder, clock, builds, versions = parts
    holder.refresh()
    builds.down, versions["now"] = True, "v2"
    clock.now += 1
    holder.refresh()
    assert holder.get().version == "v1"
    assert holder.last_error.startswith("ConnectionError")
    builds.down = False
    clock.now += 0.5
    holder.refresh()
    assert holder.get().version == "v1", "a failed build waits a second before the next try"
    clock.now += 0.6
    holder.refresh()
    assert holder.get().version == "v2"
    assert holder.last_error is None


def test_an_unreadable_version_keeps_the_snapshot_and_says_so(parts):
    holder, _, builds, _ = parts
    holder.refresh()

    def unreachable() -> str:
        raise ConnectionError("database unreachable")

    holder._current_version = unreachable
    holder.refresh()
    assert holder.get().version == "v1"
    assert holder.database.state(stale_after=3) == "error: ConnectionError"
    assert builds.count == 1


def test_no_snapshot_at_all_is_an_error(parts):
    holder, _, builds, _ = parts
    builds.down = True
    holder.refresh()
    with pytest.raises(SnapshotUnavailable):
        holder.get()


def test_without_a_version_only_max_age_rebuilds(parts):
    holder, clock, builds, versions = parts
    versions["now"] = None
    holder.refresh()
    clock.now += 30
    holder.refresh()
    assert builds.count == 1
    clock.now += 31
    holder.refresh()
    assert builds.count == 2


@pytest.mark.django_db
def test_a_stored_pattern_the_grammar_refuses_fails_the_build_not_open(world):
    from authz.snapshot import UnreadableRoute
    from routes.models import Route

    # The database's regex is looser than the grammar here; skipping the route would let the
    # public wildcard answer for its path.
    Route.objects.create(domain="*", pattern="/api/public/list%5B0%5D")
    with pytest.raises(UnreadableRoute, match="cannot read"):
        build_snapshot(None)
