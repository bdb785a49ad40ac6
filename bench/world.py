"""What the HTTP benchmark asks about: the small configuration's names, keys and secret
(written by bench/scene.py, presented by wrk), the 10,000-route dataset's keys
(bench/dataset.py), and the request lists each row sends.

Pure: no Django here, so the orchestrator (bench/run.py) never sets Django up; everything that
writes the database runs in a subprocess of its own with the database it is given.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from authz.signatures import sign

# Routes of the small configuration (domain "*": wrk's Host is 127.0.0.1).
PUBLIC_ROUTE = "/api/public/*"
DATA_ROUTE = "/api/data/*"
SIGNED_ROUTE = "/api/signed/*"
PUBLIC_PATH = "/api/public/items/42"
DATA_PATH = "/api/data/items/42"
SIGNED_PATH = "/api/signed/items/42"

# The client every single-key row presents; it also holds the HMAC secret.
CLIENT_NAME = "bench"
BENCH = 0
CLIENT_ID = "5b0e6a52-8d0f-4c33-9a51-2f5f3e0b6c01"
HMAC_SECRET = "bench-hmac-secret-0123456789abcdef"
# A client with a rate limit no run reaches (so every request is counted and allowed).
LIMITED_NAME = "limited"
LIMITED = 1
NEVER_REACHED = 1_000_000_000
# The realistic mix: this many paths and keys, each drawn from a Zipf distribution.
MIX_PATHS = 1000
MIX_KEYS = 100
MIX_LENGTH = 50_000
MIX_SEED = 11
MIX_FIRST = 100


def key_of(index: int) -> str:
    """The API key of client `index` of the 10,000-route dataset (deterministic, so load
    generators can present it)."""
    return f"gk_{index:08d}_" + f"{index:032d}"[-32:].replace("0", "a")


def scene_key(number: int) -> str:
    """The API key of client `number` of the small configuration (BENCH, LIMITED, mix_client)."""
    return f"gk_s{number:07d}_" + f"{number:032d}".replace("0", "b")


def mix_path(index: int) -> str:
    return f"/api/data/mix/p{index:04d}"


def mix_client(index: int) -> int:
    """The number of the mix's client `index` (named `mix-<index>`)."""
    return MIX_FIRST + index


@dataclass(frozen=True)
class Request:
    """One request as wrk sends it."""

    path: str
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"

    def line(self) -> str:
        """The request as one line of the file bench/lua.py's script reads."""
        fields = [self.method, self.path, *(f"{name}: {value}" for name, value in self.headers)]
        if any("\t" in field or "\n" in field or "\r" in field for field in fields):
            raise ValueError(f"a request field holds a tab or a line break: {fields!r}")
        return "\t".join(fields)


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("Authorization", f"Bearer {key}"),)


def key_request() -> Request:
    return Request(DATA_PATH, bearer(scene_key(BENCH)))


def public_request() -> Request:
    return Request(PUBLIC_PATH)


def limited_request() -> Request:
    return Request(DATA_PATH, bearer(scene_key(LIMITED)))


def signed_requests(count: int, *, run: str, now: float | None = None) -> Iterator[Request]:
    """`count` HMAC-signed GETs, each with a nonce of its own (a replay is denied), signed
    now: they must be sent within the skew window (300 s by default)."""
    stamp = str(int(time.time() if now is None else now))
    secret = HMAC_SECRET.encode()
    for n in range(count):
        nonce = f"{run}-{n}"
        signature = sign(secret, "GET", SIGNED_PATH, stamp, nonce, b"")
        header = (
            f'HMAC client_id="{CLIENT_ID}",timestamp="{stamp}",nonce="{nonce}",'
            f'signature="{signature}"'
        )
        yield Request(SIGNED_PATH, (("Authorization", header),))


def mix_requests(pairs: Sequence[tuple[int, int]]) -> list[Request]:
    """(path index, key index) pairs (bench/mix.py) as requests."""
    return [Request(mix_path(p), bearer(scene_key(mix_client(k)))) for p, k in pairs]


# The dataset's domains in order (bench/dataset.py DOMAINS) and a Host each one matches.
DATASET_HOSTS = ("bench.example.org", "api.example.com", "shop.example.com", "eu.api.example.com")


def dataset_requests(size: int, count: int = 1000) -> list[Request]:
    """API-key allows spread over `count` clients of the `size`-route dataset, each on its own
    route (client i holds route i). Client size-1 is never asked about: bench/churn.py
    changes it."""
    requests = []
    for j in range(count):
        i = (j * 7919) % (size - 1)
        requests.append(
            Request(
                f"/svc{i}/items/{j}/x",
                (("Host", DATASET_HOSTS[i % len(DATASET_HOSTS)]), *bearer(key_of(i))),
            )
        )
    return requests


def run_id() -> str:
    return uuid.uuid4().hex[:12]
