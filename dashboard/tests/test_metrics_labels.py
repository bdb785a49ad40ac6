"""The admin's django-prometheus series are bounded: junk requests add none (issue 9, item 9)."""

from __future__ import annotations

import random
import string

import pytest
from prometheus_client import REGISTRY

from dashboard.middleware import METHODS, OTHER, STATUSES

pytestmark = pytest.mark.django_db

# Each kind of path answers one status per method and host, whatever its random part.
PATHS = [
    "/nothing-{junk}",  # 404, no view
    "/admin/login/?next=/{junk}",  # the login page: 200, 403 (CSRF) or 405
    "/admin/clients/client/{junk}/change/",  # a staff page: 302 to the login
    "/admin/{junk}/",  # the admin's catch-all: 302 to the login
]
HOSTS = ["127.0.0.1", "evil-{junk}.example"]  # a host not allowed: 400


def junk(rng: random.Random, size: int = 8) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=size))


def series() -> set[tuple[str, frozenset]]:
    return {
        (sample.name, frozenset(sample.labels.items()))
        for family in REGISTRY.collect()
        if family.name.startswith("django_http")
        for sample in family.samples
    }


def send(client, method: str, path: str, host: str) -> None:
    client.generic(method, path, HTTP_HOST=host)


def test_a_thousand_junk_requests_add_no_series(client):
    rng = random.Random(9)
    # Every bounded label value once: each method (and one made-up one) on each kind of path.
    for method in [*sorted(METHODS), "BREW"]:
        for path in PATHS:
            for host in HOSTS:
                send(client, method, path.format(junk="x"), host.format(junk="x"))
    before = series()
    for _ in range(1000):
        method = rng.choice([*sorted(METHODS), junk(rng, rng.randint(1, 12)), "get", "M-SEARCH"])
        path = rng.choice(PATHS).format(junk=junk(rng))
        host = rng.choice(HOSTS).format(junk=junk(rng))
        send(client, method, path, host)
    added = series() - before
    assert not added, f"{len(added)} new series, e.g. {sorted(added)[:3]}"


def test_every_method_and_status_label_is_from_a_fixed_set(client):
    rng = random.Random(13)
    for _ in range(50):
        send(client, junk(rng), f"/admin/{junk(rng)}/", "127.0.0.1")
    for _name, labels in series():
        values = dict(labels)
        assert values.get("method", OTHER) in METHODS | {OTHER}
        assert values.get("status", OTHER) in STATUSES | {OTHER}
