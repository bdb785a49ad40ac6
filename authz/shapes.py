"""How each proxy asks (proxy-facts §1-§4): its request turned into `RequestFacts`.

Each reader takes only the headers its proxy sets itself (and so overwrites when a client
sends them); every other `X-Forwarded-*` / `X-Original-*` header is ignored, because a client
can send it. A reader raises `Malformed` when the proxy's own headers are missing or doubled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from authz.engine import RequestFacts
from authz.normalize import Malformed
from authz.reasons import Detail

ENVOY_PREFIX = "/authz/envoy"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Shape:
    """A proxy's way of asking, and whether it shows the decider's status to the client."""

    name: str
    read: Callable[[HttpRequest], RequestFacts]
    # nginx and ingress-nginx turn anything but 200/401/403 into a 500 (proxy-facts §1.1);
    # Caddy, Traefik and Envoy pass the decider's status and body to the client.
    passes_statuses: bool


def _header(request: HttpRequest, name: str) -> str:
    value = request.META.get(name)
    if not value:
        raise Malformed(Detail.MISSING_HEADER, f"{name} is missing")
    return value


def _target(value: str) -> str:
    # WSGI servers join a repeated header with ','; a target is one origin-form value, so a
    # ',' followed by '/' is read as two headers (an injection through nginx's `$uri`).
    if ",/" in value:
        raise Malformed(Detail.DUPLICATE_HEADER, "the target header was sent twice")
    return value


def _passed_body(request: HttpRequest) -> bytes | None:
    """The body the proxy passed (nginx with njs does); None when the proxy says the request
    had one that it did not pass (`X-Original-Content-Length` / `-Transfer-Encoding`, which the
    configs in deploy/ set), so no signature is ever checked over a body we did not see."""
    if request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        try:
            return request.body
        except RequestDataTooBig:
            # Over DATA_UPLOAD_MAX_MEMORY_SIZE: a body we will not read is a body we lack.
            return None
    original = request.META.get("HTTP_X_ORIGINAL_CONTENT_LENGTH", "")
    if original not in ("", "0") or request.META.get("HTTP_X_ORIGINAL_TRANSFER_ENCODING"):
        return None
    return b""


def _credentials(request: HttpRequest) -> dict[str, str | None]:
    return {
        "authorization": request.META.get("HTTP_AUTHORIZATION"),
        "api_key_header": request.META.get("HTTP_X_API_KEY"),
    }


def read_nginx(request: HttpRequest) -> RequestFacts:
    """nginx auth_request: X-Original-URI ($request_uri), -Method, -Host (README config)."""
    return RequestFacts(
        method=_header(request, "HTTP_X_ORIGINAL_METHOD"),
        host=_header(request, "HTTP_X_ORIGINAL_HOST"),
        target=_target(_header(request, "HTTP_X_ORIGINAL_URI")),
        body=_passed_body(request),
        **_credentials(request),
    )


def read_forward(request: HttpRequest) -> RequestFacts:
    """Caddy forward_auth and Traefik ForwardAuth: X-Forwarded-Method, -Uri, -Host, which both
    overwrite whatever the client sent (proxy-facts §2.1, §3.2). Neither passes the body."""
    method = _header(request, "HTTP_X_FORWARDED_METHOD")
    body = _passed_body(request)
    if (
        body == b""
        and method in _BODY_METHODS
        and "HTTP_X_ORIGINAL_CONTENT_LENGTH" not in request.META
    ):
        # These proxies hide the client's framing; unless the config announces the length
        # (deploy/caddy/Caddyfile does; Traefik cannot), a body may exist that we never saw.
        body = None
    return RequestFacts(
        method=method,
        host=_header(request, "HTTP_X_FORWARDED_HOST"),
        target=_target(_header(request, "HTTP_X_FORWARDED_URI")),
        body=body,
        **_credentials(request),
    )


def read_ingress(request: HttpRequest) -> RequestFacts:
    """ingress-nginx auth-url: X-Original-URL ($scheme://$http_host$request_uri) and
    X-Original-Method, both set by the controller (proxy-facts §3.1). X-Original-URI is set
    only with auth-method, and no host header of its own, so the URL is the one source."""
    url = _header(request, "HTTP_X_ORIGINAL_URL")
    scheme, sep, rest = url.partition("://")
    slash = rest.find("/")
    if not sep or scheme not in ("http", "https") or slash <= 0:
        raise Malformed(Detail.BAD_TARGET, "X-Original-URL is not scheme://host/target")
    if ",http://" in rest or ",https://" in rest:
        raise Malformed(Detail.DUPLICATE_HEADER, "X-Original-URL was sent twice")
    return RequestFacts(
        method=_header(request, "HTTP_X_ORIGINAL_METHOD"),
        host=rest[:slash],
        target=_target(rest[slash:]),
        body=_passed_body(request),
        **_credentials(request),
    )


def read_envoy(request: HttpRequest) -> RequestFacts:
    """Envoy ext_authz (HTTP service, `path_prefix: /authz/envoy`): the check request keeps
    the original method, `:authority` as Host and the prefixed original path. The body arrives
    only with `with_request_body`; Envoy then says whether it was cut
    (`x-envoy-auth-partial-body`), and without that header the body is unknown."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if not raw or not raw.startswith(ENVOY_PREFIX + "/"):
        # Only the raw target can be checked and signed; gunicorn provides RAW_URI.
        raise Malformed(Detail.MISSING_HEADER, "the raw request target is not available")
    partial = request.META.get("HTTP_X_ENVOY_AUTH_PARTIAL_BODY")
    return RequestFacts(
        method=request.method or "",
        host=_header(request, "HTTP_HOST"),
        target=raw[len(ENVOY_PREFIX) :],
        body=request.body if partial == "false" else None,
        **_credentials(request),
    )


NGINX = Shape("nginx", read_nginx, passes_statuses=False)
FORWARD = Shape("forward", read_forward, passes_statuses=True)
INGRESS = Shape("ingress", read_ingress, passes_statuses=False)
ENVOY = Shape("envoy", read_envoy, passes_statuses=True)
