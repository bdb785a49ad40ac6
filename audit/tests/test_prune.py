"""`prune_audit`: old decisions and configuration changes go, in batches; recent ones stay."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditEvent, DecisionRecord
from audit.services import record
from core.actor import Actor

pytestmark = pytest.mark.django_db


# Marks this module's decisions: other tests' writer threads may have committed rows of theirs.
HOST = "prune.test"


def aged(days: float, count: int = 1) -> None:
    """`count` decisions and `count` configuration changes, `days` old."""
    when = timezone.now() - timedelta(days=days)
    for _ in range(count):
        DecisionRecord.objects.create(time=when, reason="no_route_match", host=HOST, shape="nginx")
        event = record(Actor.system("tests"), "route.created", object_type="routes.route")
        # auto_now_add stamps now; time passes.
        AuditEvent.objects.filter(pk=event.pk).update(time=when)


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_audit", *args, stdout=out)
    return out.getvalue()


def remaining() -> tuple[int, int]:
    changes = AuditEvent.objects.exclude(action="audit.pruned").count()
    return DecisionRecord.objects.filter(host=HOST).count(), changes


def test_rows_older_than_thirty_days_go_by_default():
    aged(31, count=3)
    aged(29, count=2)
    output = prune()
    assert remaining() == (2, 2)
    assert "Deleted 3 changes, 3 decisions older than 30d" in output


@pytest.mark.parametrize(
    ("args", "left"),
    [
        (["--older-than", "1w"], (1, 1)),
        (["--older-than", "36h"], (1, 1)),
        (["--older-than", "12w"], (2, 2)),
        (["--only", "decisions"], (1, 2)),
        (["--only", "changes"], (2, 1)),
    ],
)
def test_the_age_and_the_trail_can_be_chosen(args, left):
    aged(40)
    aged(1)
    prune(*args)
    assert remaining() == left


def test_a_prune_is_itself_audited():
    aged(40, count=2)
    prune("--only", "decisions")
    event = AuditEvent.objects.get(action="audit.pruned")
    assert event.actor.startswith("cli:")
    assert event.actor.endswith("/prune_audit")
    assert event.detail["deleted"] == {"decisions": 2}
    assert event.detail["older_than"] == "30d"


def test_nothing_to_prune_writes_no_audit_row():
    aged(2)
    assert "Deleted 0 changes, 0 decisions" in prune()
    assert not AuditEvent.objects.filter(action="audit.pruned").exists()


def test_deletes_in_batches_and_reports_progress():
    aged(40, count=5)
    output = prune("--only", "decisions", "--batch-size", "2")
    progress = [line for line in output.splitlines() if line.startswith("decisions: deleted")]
    assert progress == [
        "decisions: deleted 2…",
        "decisions: deleted 4…",
        "decisions: deleted 5…",
    ]
    assert remaining() == (0, 5)


def test_a_dry_run_counts_and_deletes_nothing():
    aged(40, count=3)
    aged(1)
    output = prune("--dry-run")
    assert "Would delete 3 changes, 3 decisions older than 30d" in output
    assert "Dry run: nothing was changed." in output
    assert remaining() == (4, 4)
    assert not AuditEvent.objects.filter(action="audit.pruned").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--older-than", "0s"],
        ["--older-than", "soon"],
        ["--older-than", "-3d"],
        ["--only", "everything"],
        ["--batch-size", "0"],
        ["--batch-size", "many"],
    ],
)
def test_bad_input_is_a_one_line_error(args):
    aged(40)
    with pytest.raises(CommandError):
        prune(*args)
    assert remaining() == (1, 1)
