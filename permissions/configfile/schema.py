"""Reading a config file (design §8): loaded data -> a validated `Config`, through the same
serializers the REST API uses (`ConfigSerializer`, made of `routes.serializers` and
`permissions.serializers`).

Each entry is validated on its own, so that one bad entry does not hide the problems of the
others, and every problem comes back with its location (`clients[1].rate_limits[0].window`):
an operator fixes a file in one round. What could be read is kept, so that the apply can go
on to check it against the database and report those problems in the same round. The checks
across entries (the same route, client, key or limit twice) are the file's own and live here.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty

from clients.models import Credential
from clients.serializers import CredentialSerializer
from core.serializers import StrictSerializer, located
from permissions.configfile.loading import load
from permissions.configfile.spec import (
    SAME_PATHS,
    ClientSpec,
    Config,
    CredentialSpec,
    Issue,
    PermissionSpec,
    RateLimitSpec,
    RouteKey,
    RouteSpec,
    route_label,
)
from permissions.serializers import ClientEntrySerializer
from routes.patterns import canonical_pattern
from routes.serializers import RouteEntrySerializer

_LISTS = ("credentials", "rate_limits", "permissions")


class ConfigSerializer(StrictSerializer):
    """A whole config file: what `apply_config` and `POST /api/v1/config` read, and what the
    JSON Schema for editors (`deploy/schema/`) is generated from."""

    routes = RouteEntrySerializer(many=True, required=False)
    clients = ClientEntrySerializer(many=True, required=False)


def parse(text: str, fmt: str) -> tuple[Config, list[Issue]]:
    """Load and validate: syntax errors raise ConfigError, other problems are returned."""
    return validate(load(text, fmt))


def validate(data: Any) -> tuple[Config, list[Issue]]:
    """Check the loaded data; return what is valid and every problem found."""
    reader = _Reader()
    return reader.config({} if data is None else data), reader.issues


class _Reader:
    def __init__(self) -> None:
        self.issues: list[Issue] = []
        top = ConfigSerializer()
        self.top = top
        self.route = top.fields["routes"].child
        self.client = top.fields["clients"].child
        self.children = {name: self.client.fields[name].child for name in _LISTS}

    def error(self, detail: Any, where: str) -> None:
        self.issues.extend(Issue(location, message) for location, message in located(detail, where))

    def run(self, serializer: serializers.Field, raw: Any, where: str) -> Any:
        """The validated value, or None after reporting every problem at `where`."""
        try:
            return serializer.run_validation(raw)
        except ValidationError as exc:
            self.error(exc.detail, where)
            return None

    def fields(self, serializer: serializers.Serializer, raw: Any, names: tuple[str, ...]) -> dict:
        """The named fields of a failed entry that are valid on their own (no report)."""
        found = {}
        for name in names:
            field = serializer.fields[name]
            try:
                value = field.run_validation(raw.get(name, empty))
            except ValidationError:
                continue
            found[field.source] = value
        return found

    def entries(self, container: dict[str, Any], name: str, where: str) -> list[tuple[str, Any]]:
        location = f"{where}.{name}" if where else name
        value = container.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.run(self.top.fields["routes"], value, location)  # says "must be a list"
            return []
        return [(f"{location}[{index}]", item) for index, item in enumerate(value)]

    def first(self, seen: dict[Any, str], key: Any, where: str, message: str) -> bool:
        """Remember where `key` first appeared; report later ones (`{}` = that location)."""
        if key in seen:
            self.issues.append(Issue(where, message.format(seen[key])))
            return False
        seen[key] = where
        return True

    def config(self, data: Any) -> Config:
        top = dict.fromkeys(data) if isinstance(data, dict) else data
        if self.run(self.top, top, "") is None:
            return Config((), (), frozenset())
        routes, named, seen, same_paths = [], set(), {}, {}
        for where, raw in self.entries(data, "routes", ""):
            key, route = self.read_route(where, raw)
            if key is None:
                continue
            if not self.first(seen, key, where, f"duplicate of {{}} ({route_label(key)})"):
                continue
            named.add(key)
            paths = (key[0], canonical_pattern(key[1]))
            message = SAME_PATHS.format(other="{}")
            if self.first(same_paths, paths, where, message) and route is not None:
                routes.append(route)
        clients, names, ids, api_keys = [], {}, {}, {}
        for where, raw in self.entries(data, "clients", ""):
            client = self.read_client(where, raw, api_keys)
            if client is None:
                continue
            unique_name = self.first(
                names, client.name.lower(), where, f"duplicate of {{}} ({client.name})"
            )
            unique_id = client.id is None or self.first(
                ids, client.id, f"{where}.id", "the same id as {}"
            )
            if unique_name and unique_id:
                clients.append(client)
        return Config(tuple(routes), tuple(clients), frozenset(named))

    # Routes ---------------------------------------------------------------------------------

    def read_route(self, where: str, raw: Any) -> tuple[RouteKey | None, RouteSpec | None]:
        value = self.run(self.route, raw, where)
        if value is None:
            if not isinstance(raw, dict):
                return None, None
            # The key still counts (duplicates, references to it); a spec whose methods are
            # sound is kept too, so the permissions on it are still checked.
            value = self.fields(self.route, raw, ("domain", "pattern", "methods"))
            if "domain" not in value or "pattern" not in value:
                return None, None
            if "methods" not in value:
                return (value["domain"], value["pattern"]), None
        spec = RouteSpec(
            where,
            value["domain"],
            value["pattern"],
            value.get("service_name", ""),
            value.get("description", ""),
            tuple(value["methods"].items()),
        )
        return spec.key, spec

    # Clients --------------------------------------------------------------------------------

    def read_client(self, where: str, raw: Any, api_keys: dict[Any, str]) -> ClientSpec | None:
        scalars = (
            {k: v for k, v in raw.items() if k not in _LISTS} if isinstance(raw, dict) else raw
        )
        value = self.run(self.client, scalars, where)
        if value is None:
            if not isinstance(raw, dict):
                return None
            value = self.fields(self.client, raw, ("name",))
        credentials = self.credentials(raw, where, api_keys)
        rate_limits = self.rate_limits(raw, where)
        permissions = self.permissions(raw, where)
        if "name" not in value:
            return None
        return ClientSpec(
            where,
            value["name"],
            value.get("id"),
            value.get("status", "active"),
            value.get("description", ""),
            credentials,
            rate_limits,
            permissions,
        )

    def items(self, raw: dict[str, Any], name: str, where: str) -> list[tuple[str, Any]]:
        """(location, validated value) of each valid entry of the list `name`."""
        found = []
        for location, item in self.entries(raw, name, where):
            value = self.run(self.children[name], item, location)
            if value is not None:
                found.append((location, value))
        return found

    def credentials(
        self, raw: dict[str, Any], where: str, api_keys: dict[Any, str]
    ) -> tuple[CredentialSpec, ...]:
        result, seen = [], {}
        for location, item in self.items(raw, "credentials", where):
            value = CredentialSerializer.value_of(item)
            if value is not None:
                # One API key names one credential everywhere; one secret twice is a typo.
                if item["kind"] == Credential.Kind.API_KEY:
                    unique = self.first(api_keys, value, location, "the same key as {}")
                else:
                    unique = self.first(seen, value, location, "the same secret as {}")
                if not unique:
                    continue
            result.append(CredentialSpec(location, item["kind"], item["label"], value))
        return tuple(result)

    def rate_limits(self, raw: dict[str, Any], where: str) -> tuple[RateLimitSpec, ...]:
        result, seen = [], {}
        for location, item in self.items(raw, "rate_limits", where):
            route = (item["domain"], item["pattern"]) if "pattern" in item else None
            spec = RateLimitSpec(location, item["limit"], item["window"], route)
            scope = f"on {route_label(route)}" if route else "on all routes"
            message = f"duplicate of {{}} (per {spec.window} {scope})"
            if self.first(seen, spec.key, location, message):
                result.append(spec)
        return tuple(result)

    def permissions(self, raw: dict[str, Any], where: str) -> tuple[PermissionSpec, ...]:
        result, seen = [], {}
        for location, item in self.items(raw, "permissions", where):
            route = (item["domain"], item["pattern"])
            message = f"duplicate of {{}} (route {route_label(route)})"
            if self.first(seen, route, location, message):
                result.append(PermissionSpec(location, route, item["methods"]))
        return tuple(result)
