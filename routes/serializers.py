"""A route with its method rules, as the REST API and the config file read and write it.

One shape for both: `{domain, pattern, service, description, methods: {GET: api_key}}`. The
rules are `routes.patterns` (the grammar the services and the engine use); these fields only
call them, so a bad pattern gets the same message in the admin, the API and a file.
"""

from __future__ import annotations

import functools
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.redaction import describe
from core.serializers import (
    NON_FIELD,
    StrictCharField,
    StrictSerializer,
    _Strict,
    not_one_of,
)
from routes import patterns
from routes.models import Auth, Route

DEFAULT_DOMAIN = "*"
# Auth.values builds a list on every use; a file checks some 20,000 of them.
_AUTHS = frozenset(Auth.values)


# A file names each route's domain and pattern again in its permissions: check each once.
_CHECKED = 65536


@functools.lru_cache(maxsize=_CHECKED)
def _pattern_text(text: str) -> str:
    return patterns.parse_pattern(text).text


@functools.lru_cache(maxsize=_CHECKED)
def _domain(text: str) -> str:
    return patterns.normalize_domain(text)


class DomainField(StrictCharField):
    """`api.example.com`, `*.example.com` or `*`; kept normalised (lower case, punycode)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default", DEFAULT_DOMAIN)
        kwargs.setdefault("max_length", patterns.MAX_DOMAIN_LENGTH + 1)
        super().__init__(rule=_domain, **kwargs)


class PatternField(StrictCharField):
    """`/api/users/me`, `/api/users/{id}/orders` or `/api/users/*`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", False)
        super().__init__(rule=_pattern_text, **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "description": "The auth each configured method asks for; a method left out is denied.",
        "properties": {m: {"type": "string", "enum": list(Auth.values)} for m in patterns.METHODS},
        "additionalProperties": False,
        "example": {"GET": "api_key", "POST": "hmac"},
    }
)
class MethodRulesField(_Strict, serializers.Field):
    """{method: auth}; method names in any case, auth names exactly. Kept in method order."""

    null_is_absent = True
    default_error_messages = {"type": "must be a mapping like {{GET: api_key}}, not {kind}"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, dict):
            self.fail("type", kind=describe(data))
        rules: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        for method, auth in data.items():
            name = method.upper() if isinstance(method, str) else method
            if name not in patterns.METHODS:
                errors.setdefault(NON_FIELD, []).append(not_one_of(method, patterns.METHODS))
            elif name in rules or name in errors:
                errors.setdefault(name, []).append(f"{name} is listed twice")
            elif auth not in _AUTHS:
                errors[name] = [not_one_of(auth, Auth.values)]
            else:
                rules[name] = auth
        if errors:
            raise ValidationError(errors)
        return {method: rules[method] for method in patterns.METHODS if method in rules}

    def to_representation(self, value: Any) -> dict[str, str]:
        # A route's `methods` manager (prefetched in lists).
        rules = {rule.method: rule.auth for rule in value.all()}
        return {method: rules[method] for method in patterns.METHODS if method in rules}


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(patterns.METHODS)},
        "minItems": 1,
        "example": ["GET", "POST"],
    }
)
class MethodListField(_Strict, serializers.Field):
    """A non-empty list of methods (any case); kept unique, in method order."""

    default_error_messages = {"required": "this field is required", "type": "{kind}"}

    def to_internal_value(self, data: Any) -> tuple[str, ...]:
        try:
            return patterns.normalize_methods(data)
        except patterns.PatternError as exc:
            raise ValidationError(str(exc)) from None

    def to_representation(self, value: Any) -> list[str]:
        return list(value.split(",") if isinstance(value, str) else value)


class RouteSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    domain = DomainField()
    pattern = PatternField()
    service = StrictCharField(
        source="service_name",
        default="",
        max_length=Route._meta.get_field("service_name").max_length,
    )
    description = StrictCharField(default="")
    methods = MethodRulesField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class RouteEntrySerializer(RouteSerializer):
    """A route as a config file writes it: what the API shows, less the database's own fields."""

    id = None
    created_at = None
    updated_at = None
