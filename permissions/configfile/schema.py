"""Reading a config file (design §8): YAML or JSON text -> a validated `Config`.

`validate` checks everything the file alone can tell and collects every problem with its
location (`clients[1].rate_limits[0].window`), so that an operator fixes a file in one round.
It keeps what it could read, so that `plan.py` can go on to check that against the database
and report those problems in the same round.
"""

from __future__ import annotations

import difflib
import re
import uuid
from typing import Any

from clients import keys
from clients.models import CLIENT_NAME_REGEX, Client, Credential
from core.redaction import SHORTEST_SECRET, describe, quote_short
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
from permissions.models import RateLimit
from routes.models import Auth, Route
from routes.patterns import (
    METHODS,
    PatternError,
    canonical_pattern,
    normalize_domain,
    normalize_methods,
    parse_pattern,
)

TOP_FIELDS = ("routes", "clients")
ROUTE_FIELDS = ("domain", "pattern", "service", "description", "methods")
CLIENT_FIELDS = ("name", "id", "status", "description", "credentials", "rate_limits", "permissions")
CREDENTIAL_FIELDS = ("kind", "label", "key", "secret")
RATE_LIMIT_FIELDS = ("limit", "window", "domain", "pattern")
PERMISSION_FIELDS = ("domain", "pattern", "methods")

# Which field holds an imported value, per credential kind.
VALUE_FIELDS = {Credential.Kind.API_KEY: "key", Credential.Kind.HMAC: "secret"}
# PositiveIntegerField is a 32-bit integer on PostgreSQL.
MAX_LIMIT = 2**31 - 1
_REQUIRED = object()
# How alike a value and a choice must be (difflib's ratio) for "did you mean" to name it.
TYPO_SIMILARITY = 0.7


def parse(text: str, fmt: str) -> tuple[Config, list[Issue]]:
    """Load and validate: syntax errors raise ConfigError, other problems are returned."""
    return validate(load(text, fmt))


def validate(data: Any) -> tuple[Config, list[Issue]]:
    """Check the loaded data; return what is valid and every problem found."""
    checker = _Checker()
    config = checker.config(data)
    return config, checker.issues


def _close_match(value: Any, choices: list[str] | tuple[str, ...]) -> str | None:
    """The choice `value` is a typo of, if any (so the message can name the choice instead of
    repeating the value). Twice as long as every choice is no typo, and is not compared."""
    if not isinstance(value, str) or len(value) > 2 * max(len(choice) for choice in choices):
        return None
    close = difflib.get_close_matches(value, choices, n=1, cutoff=TYPO_SIMILARITY)
    return close[0] if close else None


def _not_one_of(value: Any, choices: list[str] | tuple[str, ...]) -> str:
    # Not quoted when long: a key pasted into `kind:` must not come back in the error.
    message = f"{quote_short(value)} is not one of {', '.join(choices)}"
    close = _close_match(value, choices)
    return f"{message} (did you mean {close}?)" if close else message


class _Checker:
    """Walks the loaded data, collecting issues; entry readers return None for a bad entry."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def error(self, location: str, message: str) -> None:
        self.issues.append(Issue(location or "(top level)", message))

    def config(self, data: Any) -> Config:
        if data is None:
            data = {}
        top = self.fields(data, "", TOP_FIELDS)
        if top is None:
            return Config((), (), frozenset())
        routes, named, seen, same_paths = [], set(), {}, {}
        for where, raw in self.entries(top, "routes", ""):
            key, route = self.route(where, raw)
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
        for where, raw in self.entries(top, "clients", ""):
            client = self.client(where, raw, api_keys)
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

    def first(self, seen: dict[Any, str], key: Any, where: str, message: str) -> bool:
        """Remember where `key` first appeared; report later ones (`{}` = that location)."""
        if key in seen:
            self.error(where, message.format(seen[key]))
            return False
        seen[key] = where
        return True

    # Shapes ---------------------------------------------------------------------------------

    def fields(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(where, f"must be a mapping with {', '.join(allowed)}, not {describe(value)}")
            return None
        for key in value:
            if key not in allowed:
                close = _close_match(key, allowed)
                hint = f" (did you mean {close}?)" if close else f"; use {', '.join(allowed)}"
                if close is not None or len(str(key)) < SHORTEST_SECRET:
                    self.error(self.at(where, key), f"unknown field{hint}")
                else:
                    # `- {kind: api_key, gk_...}` makes the key a field name: do not repeat it.
                    self.error(where, f"unknown field {quote_short(key)}{hint}")
        return value

    def entries(self, container: dict[str, Any], name: str, where: str) -> list[tuple[str, Any]]:
        location = self.at(where, name)
        value = container.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(location, f"must be a list, not {describe(value)}")
            return []
        return [(f"{location}[{index}]", item) for index, item in enumerate(value)]

    def text(
        self,
        entry: dict[str, Any],
        name: str,
        where: str,
        default: Any = _REQUIRED,
        *,
        max_length: int | None = None,
    ) -> str | None:
        location = self.at(where, name)
        if name not in entry:
            if default is _REQUIRED:
                self.error(location, "this field is required")
                return None
            return default
        value = entry[name]
        if not isinstance(value, str):
            self.error(location, f"must be a string, not {describe(value)}")
            return None
        if max_length is not None and len(value) > max_length:
            self.error(location, f"may be at most {max_length} characters long")
            return None
        return value

    def choice(
        self, entry: dict[str, Any], name: str, where: str, choices: list[str], default: Any
    ) -> str | None:
        if name in entry and entry[name] not in choices:
            self.error(self.at(where, name), _not_one_of(entry[name], choices))
            return None
        return self.text(entry, name, where, default)

    @staticmethod
    def at(where: str, name: Any) -> str:
        return f"{where}.{name}" if where else str(name)

    # Routes ---------------------------------------------------------------------------------

    def route(self, where: str, raw: Any) -> tuple[RouteKey | None, RouteSpec | None]:
        entry = self.fields(raw, where, ROUTE_FIELDS)
        if entry is None:
            return None, None
        key = self.route_key(entry, where)
        service_field = Route._meta.get_field("service_name")
        service = self.text(entry, "service", where, "", max_length=service_field.max_length)
        description = self.text(entry, "description", where, "")
        before_methods = len(self.issues)
        methods = self.method_rules(entry.get("methods"), self.at(where, "methods"))
        # Keep a spec whose methods are sound even if other fields are not: the plan still
        # checks the permissions on it, and the file is rejected anyway.
        if key is None or len(self.issues) > before_methods:
            return key, None
        return key, RouteSpec(where, key[0], key[1], service or "", description or "", methods)

    def route_key(self, entry: dict[str, Any], where: str) -> RouteKey | None:
        domain = self.text(entry, "domain", where, "*")
        pattern = self.text(entry, "pattern", where)
        if domain is not None:
            try:
                domain = normalize_domain(domain)
            except PatternError as exc:
                self.error(self.at(where, "domain"), str(exc))
                domain = None
        if pattern is not None:
            try:
                parse_pattern(pattern)
            except PatternError as exc:
                self.error(self.at(where, "pattern"), str(exc))
                pattern = None
        if domain is None or pattern is None:
            return None
        return (domain, pattern)

    def method_rules(self, raw: Any, where: str) -> tuple[tuple[str, str], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.error(where, f"must be a mapping like {{GET: api_key}}, not {describe(raw)}")
            return ()
        rules: dict[str, str] = {}
        for method, auth in raw.items():
            name = method.upper() if isinstance(method, str) else method
            location = self.at(where, name) if name in METHODS else where
            if name not in METHODS:
                self.error(location, _not_one_of(method, METHODS))
            elif name in rules:
                self.error(location, f"{name} is listed twice")
            elif auth not in Auth.values:
                self.error(location, _not_one_of(auth, Auth.values))
            else:
                rules[name] = auth
        return tuple((method, rules[method]) for method in METHODS if method in rules)

    # Clients --------------------------------------------------------------------------------

    def client(self, where: str, raw: Any, api_keys: dict[Any, str]) -> ClientSpec | None:
        entry = self.fields(raw, where, CLIENT_FIELDS)
        if entry is None:
            return None
        name_field = Client._meta.get_field("name")
        name = self.text(entry, "name", where, max_length=name_field.max_length)
        if name is not None and not re.fullmatch(CLIENT_NAME_REGEX, name):
            self.error(
                self.at(where, "name"),
                "a client name starts with a letter or digit and holds only "
                "letters, digits, '.', '_' and '-'",
            )
            name = None
        client_id = self.client_id(entry, where)
        status = self.choice(entry, "status", where, Client.Status.values, "active")
        description = self.text(entry, "description", where, "")
        credentials = self.credentials(entry, where, api_keys)
        rate_limits = self.rate_limits(entry, where)
        permissions = self.permissions(entry, where)
        if name is None:
            return None
        return ClientSpec(
            where,
            name,
            client_id,
            status or "active",
            description or "",
            credentials,
            rate_limits,
            permissions,
        )

    def client_id(self, entry: dict[str, Any], where: str) -> uuid.UUID | None:
        text = self.text(entry, "id", where, None)
        if text is None:
            return None
        try:
            return uuid.UUID(text)
        except ValueError:
            self.error(self.at(where, "id"), f"{quote_short(text)} is not a UUID")
            return None

    def credentials(
        self, entry: dict[str, Any], where: str, api_keys: dict[Any, str]
    ) -> tuple[CredentialSpec, ...]:
        result, seen = [], {}
        for location, raw in self.entries(entry, "credentials", where):
            start = len(self.issues)
            item = self.fields(raw, location, CREDENTIAL_FIELDS)
            if item is None:
                continue
            kind = self.choice(item, "kind", location, Credential.Kind.values, _REQUIRED)
            label_field = Credential._meta.get_field("label")
            label = self.text(item, "label", location, "", max_length=label_field.max_length)
            value_field = VALUE_FIELDS.get(kind)
            for kind_name, field_name in VALUE_FIELDS.items():
                if field_name in item and kind is not None and field_name != value_field:
                    self.error(
                        self.at(location, field_name),
                        f"{field_name} is for kind {kind_name}; kind {kind} takes {value_field}",
                    )
            value = self.text(item, value_field, location, None) if value_field else None
            if value is not None:
                try:
                    keys.check_importable(value)
                except ValueError as exc:
                    self.error(self.at(location, value_field), str(exc))
            if value is not None and len(self.issues) == start:
                # One API key names one credential everywhere; one secret twice is a typo.
                if kind == Credential.Kind.API_KEY:
                    self.first(api_keys, value, location, "the same key as {}")
                else:
                    self.first(seen, value, location, "the same secret as {}")
            if len(self.issues) == start:
                result.append(CredentialSpec(location, kind, label, value))
        return tuple(result)

    def rate_limits(self, entry: dict[str, Any], where: str) -> tuple[RateLimitSpec, ...]:
        result, seen = [], {}
        for location, raw in self.entries(entry, "rate_limits", where):
            start = len(self.issues)
            item = self.fields(raw, location, RATE_LIMIT_FIELDS)
            if item is None:
                continue
            limit = item.get("limit")
            if "limit" not in item:
                self.error(self.at(location, "limit"), "this field is required")
            elif isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                self.error(self.at(location, "limit"), "must be a whole number of at least 1")
            elif limit > MAX_LIMIT:
                self.error(self.at(location, "limit"), f"may be at most {MAX_LIMIT}")
            window = self.choice(item, "window", location, RateLimit.Window.values, _REQUIRED)
            route = None
            if "domain" in item or "pattern" in item:
                route = self.route_key(item, location)
            if len(self.issues) > start:
                continue
            spec = RateLimitSpec(location, limit, window, route)
            scope = f"on {route_label(route)}" if route else "on all routes"
            if self.first(seen, spec.key, location, f"duplicate of {{}} (per {window} {scope})"):
                result.append(spec)
        return tuple(result)

    def permissions(self, entry: dict[str, Any], where: str) -> tuple[PermissionSpec, ...]:
        result, seen = [], {}
        for location, raw in self.entries(entry, "permissions", where):
            item = self.fields(raw, location, PERMISSION_FIELDS)
            if item is None:
                continue
            route = self.route_key(item, location)
            methods: tuple[str, ...] | None = None
            if "methods" not in item:
                self.error(self.at(location, "methods"), "this field is required")
            else:
                try:
                    methods = normalize_methods(item["methods"])
                except PatternError as exc:
                    self.error(self.at(location, "methods"), str(exc))
            if route is None or methods is None:
                continue
            label = route_label(route)
            if self.first(seen, route, location, f"duplicate of {{}} (route {label})"):
                result.append(PermissionSpec(location, route, methods))
        return tuple(result)
