"""The small configuration the HTTP rows ask about (bench/world.py names it): a public route,
an API-key route and an HMAC route; the `bench` client with a key and an HMAC secret, the
`limited` client with a rate limit no run reaches, and the realistic mix's 100 clients. Written
through the services, like an operator would (but for the keys: see `_client`), after
removing whatever configuration is there.

`python -m bench.scene` fills $DATABASE_URL (migrated first). Use a benchmark database.
"""

from __future__ import annotations

import os
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from bench import world  # noqa: E402
from clients import keys  # noqa: E402
from clients import services as clients  # noqa: E402
from clients.models import Client, Credential  # noqa: E402
from core.actor import Actor  # noqa: E402
from permissions import services as permissions  # noqa: E402
from permissions.models import Permission, RateLimit  # noqa: E402
from routes import services as routes  # noqa: E402
from routes.models import Route  # noqa: E402

ACTOR = Actor.system("bench")


def _client(name: str, number: int, client_id: str | None = None) -> Client:
    client = clients.create_client(
        name=name, client_id=uuid.UUID(client_id) if client_id else None, actor=ACTOR
    )
    # Stored as a generated key is (plain SHA-256), not as an imported one (peppered): wrk
    # must know the key, and a generated key is what most clients present.
    key = world.scene_key(number)
    Credential.objects.create(
        client=client, kind="api_key", prefix=keys.display_prefix(key), digest=keys.digest(key)
    )
    return client


@transaction.atomic
def fill() -> None:
    RateLimit.objects.all().delete()
    Permission.objects.all().delete()
    Credential.objects.all().delete()
    Client.objects.all().delete()
    Route.objects.all().delete()
    routes.create_route(
        domain="*", pattern=world.PUBLIC_ROUTE, methods={"GET": "public"}, actor=ACTOR
    )
    data = routes.create_route(
        domain="*", pattern=world.DATA_ROUTE, methods={"GET": "api_key"}, actor=ACTOR
    )
    signed = routes.create_route(
        domain="*", pattern=world.SIGNED_ROUTE, methods={"GET": "hmac"}, actor=ACTOR
    )
    bench = _client(world.CLIENT_NAME, world.BENCH, world.CLIENT_ID)
    clients.issue_hmac_secret(bench, secret=world.HMAC_SECRET, actor=ACTOR)
    permissions.grant(bench, data, ["GET"], actor=ACTOR)
    permissions.grant(bench, signed, ["GET"], actor=ACTOR)
    limited = _client(world.LIMITED_NAME, world.LIMITED)
    permissions.grant(limited, data, ["GET"], actor=ACTOR)
    permissions.set_rate_limit(limited, limit=world.NEVER_REACHED, window="hour", actor=ACTOR)
    for index in range(world.MIX_KEYS):
        mixed = _client(f"mix-{index}", world.mix_client(index))
        permissions.grant(mixed, data, ["GET"], actor=ACTOR)


def main() -> None:
    call_command("migrate", "--no-input", verbosity=0)
    fill()
    # The login flood leaves failed attempts behind; a run starts without them.
    call_command("axes_reset", verbosity=0)
    print(f"scene written: 3 routes, {world.MIX_KEYS + 2} clients")


if __name__ == "__main__":
    main()
