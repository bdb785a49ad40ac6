"""The database as a config file (design §8): the shape `apply_config` reads, and no secret.

The output is sorted in Python, not by the database (PostgreSQL and SQLite collate
differently), so one database exports to the same bytes everywhere, and export -> apply on an
empty database -> export gives the same file back. Credentials appear as `{kind, label}`
only: never a key, secret, digest, prefix or sealed value. Applying the export elsewhere
generates fresh ones.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.db.models import Prefetch
from django.utils import timezone

from clients.models import Client, Credential
from permissions.models import Permission, RateLimit
from routes.models import Route

_WINDOWS = list(RateLimit.Window.values)


class _Inline(dict):
    """A small mapping written on one line in YAML (`{GET: api_key}`); a dict everywhere else."""


def export_config(fmt: str = "yaml") -> str:
    """The whole configuration as YAML or JSON text."""
    data = export_data()
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)


def export_data() -> dict[str, list[dict[str, Any]]]:
    routes = sorted(Route.objects.prefetch_related("methods"), key=_route_order)
    now = timezone.now()
    clients = Client.objects.prefetch_related(
        Prefetch("credentials", queryset=Credential.objects.live(now)),
        Prefetch("permissions", queryset=Permission.objects.select_related("route")),
        Prefetch("rate_limits", queryset=RateLimit.objects.select_related("route")),
    )
    return {
        "routes": [_route(route) for route in routes],
        "clients": [_client(client) for client in sorted(clients, key=_client_order)],
    }


def _route_order(route: Route) -> tuple[str, str]:
    return (route.domain, route.pattern)


def _client_order(client: Client) -> tuple[str, str]:
    return (client.name.lower(), client.name)


def _route(route: Route) -> dict[str, Any]:
    entry: dict[str, Any] = {"domain": route.domain, "pattern": route.pattern}
    if route.service_name:
        entry["service"] = route.service_name
    if route.description:
        entry["description"] = route.description
    entry["methods"] = _Inline(route.method_rules())
    return entry


def _client(client: Client) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": client.name, "id": str(client.pk), "status": client.status}
    if client.description:
        entry["description"] = client.description
    credentials = sorted(client.credentials.all(), key=lambda c: (c.kind, c.label))
    limits = sorted(
        client.rate_limits.all(),
        key=lambda limit: (
            limit.route is not None,
            _route_order(limit.route) if limit.route else ("", ""),
            _WINDOWS.index(limit.window),
        ),
    )
    grants = sorted(client.permissions.all(), key=lambda p: _route_order(p.route))
    if credentials:
        entry["credentials"] = [_credential(credential) for credential in credentials]
    if limits:
        entry["rate_limits"] = [_rate_limit(limit) for limit in limits]
    if grants:
        entry["permissions"] = [
            _Inline(domain=p.route.domain, pattern=p.route.pattern, methods=list(p.method_list))
            for p in grants
        ]
    return entry


def _credential(credential: Credential) -> dict[str, str]:
    entry = _Inline(kind=credential.kind)
    if credential.label:
        entry["label"] = credential.label
    return entry


def _rate_limit(limit: RateLimit) -> dict[str, Any]:
    entry = _Inline(limit=limit.limit, window=limit.window)
    if limit.route is not None:
        entry.update(domain=limit.route.domain, pattern=limit.route.pattern)
    return entry


class _Dumper(yaml.SafeDumper):
    pass


def _represent_inline(dumper: yaml.SafeDumper, data: _Inline) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Multi-line descriptions read best as literal blocks; the emitter falls back to quoting
    # where a block is not allowed (inside an inline mapping).
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Inline, _represent_inline)
_Dumper.add_representer(str, _represent_text)
