"""What clients send through the proxies, and what must come out, shared by nginx and Caddy.

Routes come from `world` (authz/tests/conftest.py): /api/public/* (GET public),
/api/data/* (GET api_key, POST hmac, PUT any, DELETE api_key; acme may GET, POST, PUT),
/api/admin/* (GET api_key; nobody holds it), and the e2e `scene`'s /signed/data/*, set up
like /api/data/*.
"""

from __future__ import annotations

import posixpath
import re
import time
from dataclasses import dataclass
from urllib.parse import unquote

import pytest

from authz.tests.conftest import World
from authz.tests.e2e.backend import RecordingBackend
from authz.tests.e2e.client import Reply, request
from authz.tests.live import Gatekeeper

CHALLENGE_KEY = 'Bearer realm="gatekeeper"'
CHALLENGE_HMAC = 'HMAC realm="gatekeeper"'
CHALLENGE_ANY = 'Bearer realm="gatekeeper", HMAC realm="gatekeeper"'
UNKNOWN_KEY = "gk_nosuchkey_0000000000000000000000000000"
IDENTITY_HEADERS = ("X-Auth-Client-ID", "X-Auth-Client-Name", "X-Auth-Route-ID")
SPOOFED = tuple((name, "spoofed-by-client") for name in IDENTITY_HEADERS)


def bearer(key: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {key}")]


@dataclass(frozen=True)
class Denial:
    """A request under a data route (`{data}`) or the location (`{location}`), and the
    answer the client must get: the status, `{"error": reason}` and, on 401, the challenge."""

    reason: str
    method: str
    path: str
    key: str | None  # a World attribute holding an API key, UNKNOWN_KEY, or None
    status: int
    challenge: str | None = None

    def headers(self, world: World) -> list[tuple[str, str]]:
        if self.key is None:
            return []
        return bearer(UNKNOWN_KEY if self.key == UNKNOWN_KEY else getattr(world, self.key))


# Every reason of design §5 a deny can have; rate_limit_exceeded needs a limit set first, so
# the proxies' tests have their own test for it.
DENIALS = [
    Denial("no_route_match", "GET", "{location}nowhere/x", "acme_key", 403),
    Denial("method_not_configured", "PATCH", "{data}/x", "acme_key", 403),
    Denial("invalid_credentials", "GET", "{data}/x", None, 401, CHALLENGE_KEY),
    Denial("invalid_credentials", "POST", "{data}/x", None, 401, CHALLENGE_HMAC),
    Denial("invalid_credentials", "PUT", "{data}/x", None, 401, CHALLENGE_ANY),
    Denial("invalid_credentials", "GET", "{data}/x", UNKNOWN_KEY, 401, CHALLENGE_KEY),
    Denial("invalid_credentials", "GET", "{data}/x", "expired_key", 401, CHALLENGE_KEY),
    Denial("client_suspended", "GET", "{data}/x", "suspended_key", 403),
    Denial("client_revoked", "GET", "{data}/x", "revoked_key", 403),
    Denial("no_permission", "GET", "{data}/x", "stranger_key", 403),
    Denial("method_not_allowed", "DELETE", "{data}/x", "acme_key", 403),
    Denial("malformed_request", "GET", "{data}/%2e%2e/x", "acme_key", 403),
]


def denial_id(denial: Denial) -> str:
    return f"{denial.reason}-{denial.method}-{denial.key or 'no_key'}"


# Request targets that proxies and backends read differently (proxy-facts §1.5 and §2.4),
# aimed at /api/admin/* (which nobody may use) and, with acme's key, from /api/data/*.
CONFUSION_TARGETS = [
    "/api/public/../admin/x",
    "/api/public/%2e%2e/admin/x",
    "/api/public/%2E%2E/admin/x",
    "/api/public/.%2e/admin/x",
    "/api/public/..%2Fadmin/x",
    "/api/public%2F..%2Fadmin/x",
    "/api/public/%2e%2e%2fadmin/x",
    "//api//admin//x",
    "/api//public//x",
    "/api//public//..//admin/x",
    "/api/public/x%2F..%2F..%2Fadmin/x",
    "/api/public/x%3F/../../admin/x",
    "/api/public/x%23/../../admin/x",
    "/api/admin/x;jsessionid=1",
    "/api/public/..;/admin/x",
    "/api/public/%2e%2e;/admin/x",
    "/API/ADMIN/X",
    "/Api/admin/x",
    "/API/PUBLIC/../ADMIN/X",
    "/api/%61dmin/x",
    "/api/%70ublic/../admin/x",
    "/api/public/%2561dmin/x",
    "/api/admin%20/x",
    "/api/public/..\\admin\\x",
    "/api/public/..%5Cadmin/x",
    "/api/public/../../api/admin/x",
    "/api/public/%2e%2e/%2e%2e/api/admin/x",
    "/api/./admin/x",
    "/api/admin/x/.",
    "/api/public/x/..",
    "/api/public/x/../../admin/x",
    "/api/admin%2e/x",
    "/api/public/x?a=1&b=%2F&c=../../admin/x",
    "/api/public/x?/../../admin/x",
    "/api/admin/x#frag",
    "/api/public/x#/../../admin/x",
    "http://evil.test/api/admin/x",
    "http://evil.test/api/public/../admin/x",
    "/api/admin/x%0D%0AX-Injected:%20yes",
    "/api/public/x%0D%0AX-Original-URI:%20/api/admin/x",
    "/api/admin/x%00y",
    "/api/public/%C0%AE%C0%AE/admin/x",
    "/api/public/%ef%bc%8e%ef%bc%8e/admin/x",
]
# With acme's key (GET on /api/data/* only): the same tricks from the data route.
CONFUSION_TARGETS_WITH_KEY = [
    target.replace("/api/public", "/api/data").replace("/API/PUBLIC", "/API/DATA")
    for target in CONFUSION_TARGETS
    if "public" in target.lower()
]


# (targets, World attribute of the key sent, routes the key opens, an honest control target)
CONFUSION_CASES = [
    pytest.param(CONFUSION_TARGETS, None, ("/api/public",), "/api/public/x", id="no_key"),
    pytest.param(
        CONFUSION_TARGETS_WITH_KEY,
        "acme_key",
        ("/api/public", "/api/data"),
        "/api/data/x",
        id="acme_key",
    ),
]


def probe_confusion(
    port: int,
    backend: RecordingBackend,
    targets: list[str],
    headers: list[tuple[str, str]],
    allowed: tuple[str, ...],
) -> tuple[list[str], list[str]]:
    """Send each target raw; return the targets that reached the backend, and a line for
    each that reached it as a path some backend could read outside `allowed`."""
    reached, offenders = [], []
    for target in targets:
        backend.clear()
        reply = request(port, "GET", target, headers=headers)
        for received in backend.received:
            reached.append(target)
            if escapes(received.target, allowed):
                offenders.append(f"{target!r} -> {reply.status}, backend got {received.target!r}")
        if not backend.received:
            assert reply.status in (400, 401, 403, 404), (target, reply.status, reply.body)
    return reached, offenders


def backend_views(target: str) -> set[str]:
    """Every path a backend might route `target` to: percent escapes decoded once or not,
    `\\` read as `/` or not, `;parameters` dropped or not, case folded or not; slashes merged
    and dot segments resolved. (Backends that decode twice are outside design §4.)"""
    path = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*", "", target)
    path = path.split("?", 1)[0].split("#", 1)[0]
    views = set()
    for decoded in (path, unquote(path, errors="replace")):
        for slashed in (decoded, decoded.replace("\\", "/")):
            for bare in (slashed, re.sub(r";[^/]*", "", slashed)):
                resolved = posixpath.normpath(re.sub("/+", "/", bare) or "/")
                views |= {resolved, resolved.lower()}
    return views


def escapes(target: str, allowed: tuple[str, ...]) -> bool:
    """Whether some backend could read `target` as a path outside the `allowed` route
    prefixes (`/api/public` allows `/api/public` and everything under `/api/public/`)."""
    return not all(
        any(view == prefix or view.startswith(prefix + "/") for prefix in allowed)
        for view in backend_views(target)
    )


def until_limited(port: int, path: str, key: str, *, timeout: float = 3.0) -> list[Reply]:
    """GET `path` with `key` until the answer is not a 200. Workers learn a new rate limit at
    their next snapshot reload, and count nothing before that."""
    replies: list[Reply] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (not replies or replies[-1].status == 200):
        replies.append(request(port, "GET", path, headers=bearer(key)))
    return replies


def decision_logged(gatekeeper: Gatekeeper, target: str, words: str) -> bool:
    """Whether Gatekeeper logged a decision about `target` that says `words` (the detail of
    a denial is in its log only, never in the answer)."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        lines = gatekeeper.output.read_text(errors="replace").splitlines()
        if any(f"path={target} " in line and words in line for line in lines):
            return True
        time.sleep(0.05)
    return False


def check_signed_body_unavailable(
    world: World, port: int, backend: RecordingBackend, gatekeeper: Gatekeeper, *, chunked: bool
) -> None:
    """A proxy that cannot pass the body: a body-signed request is never allowed on a
    signature over the empty body Gatekeeper got instead."""
    target = f"/api/data/orders-{'chunked' if chunked else 'length'}"
    body = '{"order": 9}'
    signature = world.signer()._create_auth_header("POST", target, body)
    headers = [("Authorization", signature)]
    reply = request(port, "POST", target, headers=headers, body=body.encode(), chunked=chunked)
    assert (reply.status, reply.json()) == (401, {"error": "invalid_credentials"})
    assert backend.received == []
    assert decision_logged(gatekeeper, target, "detail=body_unavailable")


def check_signed_empty_body_passes(world: World, port: int, backend: RecordingBackend) -> None:
    target = "/api/data/orders"
    signature = world.signer()._create_auth_header("POST", target, "")
    reply = request(port, "POST", target, headers=[("Authorization", signature)])
    assert reply.status == 200, reply.body
    assert [r.body for r in backend.received] == [b""]
