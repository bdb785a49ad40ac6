from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.test import override_settings

from clients.checks import check_key_peppers, check_secret_keys

VALID = Fernet.generate_key().decode()


@pytest.mark.parametrize(
    ("secret_keys", "expected_ids"),
    [
        ([VALID], []),
        ([VALID, Fernet.generate_key().decode()], []),
        ([], ["clients.E001"]),
        ([VALID, "too-short"], ["clients.E002"]),
        (["too-short", "also-bad"], ["clients.E002", "clients.E002"]),
        ([VALID[:-2]], ["clients.E002"]),
    ],
)
def test_secret_keys_check(secret_keys, expected_ids):
    with override_settings(GATEKEEPER_SECRET_KEYS=secret_keys):
        problems = check_secret_keys()
    assert [problem.id for problem in problems] == expected_ids
    assert all(problem.level == checks.CRITICAL for problem in problems)


@override_settings(GATEKEEPER_SECRET_KEYS=[VALID, "bad-key-value"])
def test_invalid_key_error_names_the_position_and_never_the_key():
    (problem,) = check_secret_keys()
    assert "entry 2" in problem.msg
    assert "bad-key-value" not in problem.msg + (problem.hint or "")
    assert VALID not in problem.msg + (problem.hint or "")


@override_settings(GATEKEEPER_SECRET_KEYS=[])
def test_the_check_is_registered_and_runs_with_manage_py_check():
    ids = [problem.id for problem in checks.run_checks(tags=[checks.Tags.security])]
    assert "clients.E001" in ids


PEPPER = "a-random-pepper-0123456789abcdefghij"


@pytest.mark.parametrize(
    ("peppers", "expected_ids"),
    [
        ([], []),
        ([PEPPER], []),
        ([PEPPER, PEPPER.upper()], []),
        (["short"], ["clients.E003"]),
        ([PEPPER, "has a space in it 0123456789abcdef"], ["clients.E003"]),
        (["pepper-with-non-ascii-é-0123456789abcdef"], ["clients.E003"]),
    ],
)
def test_key_peppers_check(peppers, expected_ids):
    with override_settings(GATEKEEPER_KEY_PEPPERS=peppers):
        problems = check_key_peppers()
    assert [problem.id for problem in problems] == expected_ids
    assert all(problem.level == checks.CRITICAL for problem in problems)


@override_settings(GATEKEEPER_KEY_PEPPERS=[PEPPER, "weak-pepper"])
def test_a_malformed_pepper_is_named_by_position_never_by_value():
    found = checks.run_checks(tags=[checks.Tags.security])
    (problem,) = [problem for problem in found if problem.id == "clients.E003"]
    assert "entry 2" in problem.msg
    assert "weak-pepper" not in problem.msg + (problem.hint or "")
