"""Other apps watch decisions through authz.observers; they can never break one."""

from __future__ import annotations

from authz.tests.wire import bearer


def test_observers_see_every_decision_and_cannot_break_one(world, ask):
    from authz import observers

    seen = []

    def watch(decision, now):
        seen.append((decision.reason.value, decision.detail, decision.credential_id))

    def broken(decision, now):
        raise RuntimeError("observer bug")

    observers.register(watch)
    observers.register(broken)
    try:
        assert ask("GET", "/api/data/x", **bearer(world.expired_key)).status_code == 401
        assert ask("GET", "/api/public/x").status_code == 200
    finally:
        observers.unregister(watch)
        observers.unregister(broken)
    (reason, detail, credential), public = seen
    assert (reason, detail) == ("invalid_credentials", "expired_credential")
    assert credential is not None, "an expired key names its credential for observers"
    assert public[0] == "no_auth_required"
