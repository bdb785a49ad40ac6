"""`last_used_at` is stamped off the request path, at most once a minute per credential."""

from __future__ import annotations

import pytest

from authz.tests.wire import bearer
from authz.usage import UsageRecorder
from clients.models import Credential
from core import config_version


def test_a_used_key_is_stamped_when_the_recorder_flushes(world, ask):
    from authz.runtime import get_runtime

    assert ask("GET", "/api/data/x", **bearer(world.acme_key)).status_code == 200
    cred = Credential.objects.get(client=world.acme, kind="api_key", expires_at__isnull=True)
    assert cred.last_used_at is None, "the decision itself never writes to the database"
    assert get_runtime().usage.flush() == 1
    cred.refresh_from_db()
    assert cred.last_used_at is not None


def test_notes_within_the_interval_are_one_write(world):
    cred = Credential.objects.filter(client=world.acme).first()
    recorder = UsageRecorder(interval=60)
    for second in range(30):
        recorder.note(cred.id, 1000.0 + second)
    assert recorder.flush() == 1
    assert recorder.flush() == 0
    recorder.note(cred.id, 1061.0)
    assert recorder.flush() == 1


@pytest.mark.django_db(transaction=True)
def test_a_usage_stamp_is_not_a_config_change(world):
    before = config_version.bump()
    recorder = UsageRecorder()
    recorder.note(Credential.objects.filter(client=world.acme).first().id, 1000.0)
    recorder.flush()
    assert config_version.current() == before
