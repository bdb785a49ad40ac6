"""Configuration changes at a steady pace until stopped: the load of "p99 during a config
change". Each change suspends or reactivates one client no request names (bench/world.py
`dataset_requests` leaves the last client out), through the service, so every decision
process rebuilds its snapshot once per change.

`python -m bench.churn --client client-9999 --every 1` prints `ready`, changes until SIGTERM,
then prints `changes N`.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.settings")

import django

django.setup()

from clients import services as clients  # noqa: E402
from clients.models import Client  # noqa: E402
from core.actor import Actor  # noqa: E402

ACTOR = Actor.system("bench-churn")
STATUSES = (Client.Status.SUSPENDED, Client.Status.ACTIVE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--client", required=True, help="the name of the client to change")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between changes")
    args = parser.parse_args()
    client = Client.objects.get(name=args.client)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print("ready", flush=True)
    changes = 0
    next_change = time.monotonic()
    while not stopped.wait(max(0.0, next_change - time.monotonic())):
        client = clients.set_client_status(client, STATUSES[changes % 2], actor=ACTOR)
        changes += 1
        next_change += args.every
    clients.set_client_status(client, Client.Status.ACTIVE, actor=ACTOR)
    print(f"changes {changes}", flush=True)


if __name__ == "__main__":
    main()
