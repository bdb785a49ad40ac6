"""Keys and HMAC secrets never reach logs, responses or audit rows on the decision path."""

from __future__ import annotations

import logging

from audit.models import AuditEvent
from authz.tests.wire import bearer, hmac_header


def test_decisions_never_log_or_echo_a_secret(world, ask, caplog):
    caplog.set_level(logging.DEBUG)
    unknown = "gk_unknown0_" + "Z" * 32
    responses = [
        ask("GET", "/api/data/x", **bearer(world.acme_key)),
        ask("GET", f"/api/data/x?api_key={world.acme_key}"),
        ask("GET", f"/api/data/x?a=1&api_key={unknown}"),
        ask("GET", "/api/data/x", **bearer(unknown)),
        ask("POST", "/api/data/x", **bearer(world.acme_key)),
        ask("GET", "/api/admin/x", HTTP_X_API_KEY=world.acme_key),
        ask("GET", f"/api/data/x?api_key={world.stranger_key}", **bearer(world.acme_key)),
        ask("POST", "/api/data/x", **hmac_header(world, "POST", "/api/data/x", secret="wrong")),
        ask("POST", "/api/data/x", **hmac_header(world, "POST", "/api/data/x")),
        ask("GET", f"/api/../x?api_key={world.acme_key}"),
    ]
    secrets = [world.acme_key, world.stranger_key, world.acme_secret, unknown]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "[redacted]" in logged, "query keys must be logged redacted, not dropped silently"
    for secret in secrets:
        assert secret not in logged
        for response in responses:
            assert secret not in str(response.headers)
            assert secret.encode() not in response.content
    audit = "".join(f"{e.detail}{e.object_repr}" for e in AuditEvent.objects.all())
    for secret in secrets:
        assert secret not in audit
