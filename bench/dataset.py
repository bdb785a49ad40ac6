"""A large configuration for benchmarks: N routes on a few domains, N clients with one API key
and one permission each (every tenth also an HMAC secret), written straight into a database
of the benchmark's own with bulk inserts (the services would take minutes; what is measured
here is reading it back, not writing it).

`python -m bench.dataset --size 10000` fills $DATABASE_URL (created and migrated if needed).
"""

from __future__ import annotations

import argparse
import os
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.test_settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from bench.world import key_of  # noqa: E402
from clients import encryption, keys  # noqa: E402
from clients.models import Client, Credential  # noqa: E402
from core import config_version  # noqa: E402
from permissions.models import Permission  # noqa: E402
from routes.models import Route, RouteMethod  # noqa: E402
from routes.patterns import canonical_pattern  # noqa: E402

DOMAINS = ("*", "api.example.com", "*.example.com", "eu.api.example.com")
BATCH = 2000


@transaction.atomic
def fill(size: int) -> None:
    """Replace whatever configuration is there with `size` routes and `size` clients."""
    Permission.objects.all().delete()
    Credential.objects.all().delete()
    Client.objects.all().delete()
    Route.objects.all().delete()
    routes = Route.objects.bulk_create(
        [
            Route(
                domain=DOMAINS[i % len(DOMAINS)],
                pattern=f"/svc{i}/items/{{id}}/*",
                # save() fills this; bulk_create does not call it.
                canonical_pattern=canonical_pattern(f"/svc{i}/items/{{id}}/*"),
            )
            for i in range(size)
        ],
        batch_size=BATCH,
    )
    RouteMethod.objects.bulk_create(
        [RouteMethod(route=r, method=m, auth="any") for r in routes for m in ("GET", "POST")],
        batch_size=BATCH,
    )
    clients = Client.objects.bulk_create(
        [Client(id=uuid.UUID(int=i + 1), name=f"client-{i}") for i in range(size)],
        batch_size=BATCH,
    )
    credentials = []
    for i, client in enumerate(clients):
        plaintext = key_of(i)
        credentials.append(
            Credential(
                client=client,
                kind="api_key",
                prefix=keys.display_prefix(plaintext),
                digest=keys.digest(plaintext),
            )
        )
        if i % 10 == 0:
            credentials.append(
                Credential(
                    client=client,
                    kind="hmac",
                    prefix=f"hmac_{i:08x}",
                    secret_encrypted=encryption.seal(f"secret-{i:024d}"),
                )
            )
    Credential.objects.bulk_create(credentials, batch_size=BATCH)
    Permission.objects.bulk_create(
        [
            Permission(client=c, route=r, methods="GET,POST")
            for c, r in zip(clients, routes, strict=True)
        ],
        batch_size=BATCH,
    )
    config_version.bump()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args()
    call_command("migrate", "--no-input", verbosity=0)
    fill(args.size)
    print(f"{args.size} routes and {args.size} clients written")


if __name__ == "__main__":
    main()
