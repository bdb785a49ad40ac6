"""Where a webhook may go: the URL's shape when an endpoint is saved, and every address its
host resolves to when a delivery is sent.

A webhook is a request Gatekeeper makes on behalf of whoever configured the URL, from inside
the operator's network. Left unchecked it reaches what that network hides: the cloud's
metadata service (credentials), a database's admin port, a loopback-only debug page. So only
public addresses are allowed, unless an operator allows a network explicitly
(`GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS`).

The check runs on the addresses the name resolves to at send time, and the connection goes to
the checked address itself (`webhooks/transport.py`), so a name cannot pass the check with one
address and be connected to another (DNS rebinding). A name that resolves to any refused
address is refused whole: a resolver that answers a mix could hand out the bad one next time.
IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by it too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from core.errors import GatekeeperError
from core.networks import Network, parse_networks
from core.redaction import REDACTED

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}
# Cloud metadata services (AWS, GCP, Azure and OpenStack share 169.254.169.254; AWS ECS task
# credentials; AWS over IPv6; Alibaba; Oracle). All lie in ranges refused anyway; they are
# named so the refusal and the system check can say what they are.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedDestination(GatekeeperError):
    """The URL's host is, or resolves to, an address webhooks may not be sent to."""


def allowed_networks() -> tuple[Network, ...]:
    return parse_networks(settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS)


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_refused(address: Address, allowed: Iterable[Network]) -> str | None:
    """Why no webhook may go to `address`, or None when one may."""
    allowed = tuple(allowed)
    inner = _embedded_ipv4(address)
    for candidate in (address, inner) if inner is not None else (address,):
        if any(candidate.version == net.version and candidate in net for net in allowed):
            return None
    if inner is not None:
        reason = why_refused(inner, allowed)
        if reason is not None:
            return reason
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """A URL taken apart for sending: where to connect, and what to ask for."""

    scheme: str
    host: str  # the name (or address) as in the URL: Host header, TLS server name
    port: int
    path: str  # path and query, as sent in the request line


def parse_url(url: str) -> Target:
    """The parts of an endpoint URL, or ValueError saying what is wrong with it."""
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError("use an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        # The URL is shown in the admin and the logs: it must not carry a password. Receivers
        # authenticate a webhook by its signature.
        raise ValueError("a webhook URL may not contain a user name or password")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if parts.fragment:
        raise ValueError("a webhook URL has no #fragment")
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in url):
        raise ValueError("the URL may hold only printable ASCII (percent-encode the rest)")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, parts.hostname, port or SCHEMES[scheme], path)


def display_url(url: str) -> str:
    """The URL for logs, audit rows and lists: without its query, which may carry the
    receiver's own token."""
    base, sep, _query = url.partition("?")
    return f"{base}?{REDACTED}" if sep else base


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def validate_url(url: str) -> None:
    """What can be told about a URL without resolving it (when an endpoint is saved):
    ValidationError on the `url` field."""
    try:
        target = parse_url(url)
    except ValueError as exc:
        problem = str(exc)
        raise ValidationError({"url": f"{problem[:1].upper()}{problem[1:]}."}) from None
    allowed = allowed_networks()
    host = target.host.rstrip(".").lower()
    address = _literal(host)
    if address is None and (host == "localhost" or host.endswith(".localhost")):
        address = ipaddress.ip_address("127.0.0.1")
    if address is not None and (reason := why_refused(address, allowed)):
        raise ValidationError(
            {
                "url": f"{target.host} is {reason}: webhooks go to public addresses only, "
                "unless GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS allows its network."
            }
        )


def resolve(target: Target) -> Address:
    """The address to connect to for `target`, resolved now; RefusedDestination when the host
    resolves to an address that is not allowed (or does not resolve)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OSError(f"{target.host} does not resolve ({exc.__class__.__name__})") from None
    addresses: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # The scope of a link-local IPv6 address (fe80::1%eth0) is not part of the address.
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"{target.host} does not resolve")
    allowed = allowed_networks()
    for address in addresses:
        reason = why_refused(address, allowed)
        if reason is not None:
            shown = target.host if str(address) == target.host else f"{target.host} ({address})"
            raise RefusedDestination(
                f"{shown} is {reason}; GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS does not allow it"
            )
    return addresses[0]
