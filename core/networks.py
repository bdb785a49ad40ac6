"""Which peers are allowed: one address check for every allow-list (proxies, metrics)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Settings values (already validated by settings.env_networks) as network objects."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def peer_in(peer: str, networks: Iterable[Network]) -> bool:
    """Whether the address `peer` (REMOTE_ADDR) lies in one of `networks`."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in network for network in networks)
