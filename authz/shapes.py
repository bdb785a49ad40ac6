"""How each proxy asks (proxy-facts §1-§4): the one registry of proxy shapes.

A shape is a proxy's way of asking: the path it calls, how its request becomes
`RequestFacts`, whether it shows the decider's status to the client, and which header carries
the client's address as that proxy's shipped config sets it. The decision server routes by
this table, the audit stores the shape's name, and the README's proxy table follows it; adding
a proxy is adding a row here.

Each reader takes only the headers its proxy sets itself (and so overwrites when a client
sends them); every other `X-Forwarded-*` / `X-Original-*` header is ignored, because a client
can send it. A reader raises `Malformed` when the proxy's own headers are missing or doubled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authz.engine import RequestFacts
from authz.incoming import Incoming
from authz.normalize import Malformed
from authz.reasons import Detail

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Shape:
    name: str  # stored in DecisionRecord.shape and used as a metrics label
    label: str  # for people (admin, README)
    path: str  # where the proxy asks; `prefix` shapes take everything below it
    read: Callable[[Incoming], RequestFacts]
    # nginx and ingress-nginx turn anything but 200/401/403 into a 500 (proxy-facts §1.1);
    # Caddy, Traefik and Envoy pass the decider's status and body to the client.
    passes_statuses: bool
    # The header that this proxy's shipped config sets to the client's address (never one a
    # client can set through it); "x-forwarded-for" means its last entry.
    source_header: str
    prefix: bool = False

    def client_address(self, incoming: Incoming) -> str | None:
        """The caller's address as this proxy reports it: for the audit trail only."""
        value = incoming.header(self.source_header) or ""
        if self.source_header == "x-forwarded-for":
            # The entry the nearest proxy appended; earlier ones are the client's own claims.
            value = value.rsplit(",", 1)[-1]
        return value.strip() or None


def _header(incoming: Incoming, name: str) -> str:
    value = incoming.header(name)
    if not value:
        raise Malformed(Detail.MISSING_HEADER, f"{name} is missing")
    if name in incoming.repeated:
        raise Malformed(Detail.DUPLICATE_HEADER, f"{name} was sent more than once")
    return value


def _target(value: str) -> str:
    # A proxy joins a header repeated inside one value (nginx writes `$uri` raw, so %0D%0A in
    # it injects a second X-Original-URI); a target is one origin-form value.
    if ",/" in value:
        raise Malformed(Detail.DUPLICATE_HEADER, "the target header was sent twice")
    return value


def _passed_body(incoming: Incoming) -> bytes | None:
    """The body the proxy passed (nginx with njs does); None when the proxy says the request
    had one that it did not pass (`X-Original-Content-Length` / `-Transfer-Encoding`, which the
    configs in deploy/ set), or when it was too large to read, so no signature is ever checked
    over a body we did not see."""
    if incoming.body is None or incoming.body:
        return incoming.body
    original = incoming.header("x-original-content-length") or ""
    if original not in ("", "0") or incoming.header("x-original-transfer-encoding"):
        return None
    return b""


def _credentials(incoming: Incoming) -> dict[str, str | None]:
    return {
        "authorization": incoming.header("authorization"),
        "api_key_header": incoming.header("x-api-key"),
    }


def read_nginx(incoming: Incoming) -> RequestFacts:
    """nginx auth_request: X-Original-URI ($request_uri), -Method, -Host (README config)."""
    return RequestFacts(
        method=_header(incoming, "x-original-method"),
        host=_header(incoming, "x-original-host"),
        target=_target(_header(incoming, "x-original-uri")),
        body=_passed_body(incoming),
        **_credentials(incoming),
    )


def read_forward(incoming: Incoming) -> RequestFacts:
    """Caddy forward_auth and Traefik ForwardAuth: X-Forwarded-Method, -Uri, -Host, which both
    overwrite whatever the client sent (proxy-facts §2.1, §3.2). Neither passes the body."""
    method = _header(incoming, "x-forwarded-method")
    body = _passed_body(incoming)
    if (
        body == b""
        and method in _BODY_METHODS
        and "x-original-content-length" not in incoming.headers
    ):
        # These proxies hide the client's framing; unless the config announces the length
        # (deploy/caddy/Caddyfile does; Traefik cannot), a body may exist that we never saw.
        body = None
    return RequestFacts(
        method=method,
        host=_header(incoming, "x-forwarded-host"),
        target=_target(_header(incoming, "x-forwarded-uri")),
        body=body,
        **_credentials(incoming),
    )


def read_ingress(incoming: Incoming) -> RequestFacts:
    """ingress-nginx auth-url: X-Original-URL ($scheme://$http_host$request_uri) and
    X-Original-Method, both set by the controller (proxy-facts §3.1). X-Original-URI is set
    only with auth-method, and no host header of its own, so the URL is the one source."""
    url = _header(incoming, "x-original-url")
    scheme, sep, rest = url.partition("://")
    slash = rest.find("/")
    if not sep or scheme not in ("http", "https") or slash <= 0:
        raise Malformed(Detail.BAD_TARGET, "X-Original-URL is not scheme://host/target")
    if ",http://" in rest or ",https://" in rest:
        raise Malformed(Detail.DUPLICATE_HEADER, "X-Original-URL was sent twice")
    return RequestFacts(
        method=_header(incoming, "x-original-method"),
        host=rest[:slash],
        target=_target(rest[slash:]),
        body=_passed_body(incoming),
        **_credentials(incoming),
    )


def read_envoy(incoming: Incoming) -> RequestFacts:
    """Envoy ext_authz (HTTP service, `path_prefix: /authz/envoy`): the check request keeps
    the original method, `:authority` as Host and the prefixed original path, raw (the decision
    server reads the raw request target, never a decoded path). The body arrives only with
    `with_request_body`; Envoy then says whether it was cut (`x-envoy-auth-partial-body`), and
    without that header the body is unknown."""
    partial = incoming.header("x-envoy-auth-partial-body")
    return RequestFacts(
        method=incoming.method,
        host=_header(incoming, "host"),
        target=incoming.target[len(ENVOY.path) :],
        body=incoming.body if partial == "false" else None,
        **_credentials(incoming),
    )


NGINX = Shape("nginx", "nginx auth_request", "/authz", read_nginx, False, "x-real-ip")
FORWARD = Shape(
    "forward",
    "forward auth (Caddy, Traefik)",
    "/authz/forward",
    read_forward,
    True,
    "x-forwarded-for",
)
INGRESS = Shape("ingress", "ingress-nginx", "/authz/ingress", read_ingress, False, "x-real-ip")
ENVOY = Shape(
    "envoy", "Envoy ext_authz", "/authz/envoy", read_envoy, True, "x-forwarded-for", prefix=True
)

SHAPES: tuple[Shape, ...] = (NGINX, FORWARD, INGRESS, ENVOY)
_BY_PATH = {shape.path: shape for shape in SHAPES if not shape.prefix}
_PREFIXED = tuple(shape for shape in SHAPES if shape.prefix)


def for_path(raw_path: str) -> Shape | None:
    """The shape that answers at this request path, or None."""
    shape = _BY_PATH.get(raw_path)
    if shape is not None:
        return shape
    for candidate in _PREFIXED:
        if raw_path.startswith(candidate.path + "/"):
            return candidate
    return None


def by_name(name: str) -> Shape | None:
    return next((shape for shape in SHAPES if shape.name == name), None)
