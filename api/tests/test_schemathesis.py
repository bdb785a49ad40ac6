"""schemathesis against the live OpenAPI schema: every operation, a bounded number of
generated requests each, valid ones and invalid ones, through the real WSGI application. No
answer may be a 5xx, and every answer must agree with the schema (status, content type,
body)."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clients.tests.factories import ClientFactory
from permissions.tests.factories import route_with_methods

pytestmark = pytest.mark.django_db

# Bounded: a few dozen operations times this stays within a minute or two.
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """The real WSGI application, on the test's database connection: as Django's own test
    client does, requests must not close the connection the test's transaction lives on."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_operation_answers_as_its_schema_says(token, wsgi_app):
    route_with_methods("GET", "POST", pattern="/api/data/*")
    ClientFactory(name="acme")
    auth = {"Authorization": f"Bearer {token.plaintext}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app, headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures = []
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=auth, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
