"""Permissions and rate limits as the config file and the REST API read them, and a client
entry of the config file (a client with its credentials, limits and permissions).

In a file a route is named by its domain and pattern (`{domain: "*", pattern: /api/*}`); the
API names it by id. The methods, limit and window fields are the same in both.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError

from clients.serializers import ClientSerializer, CredentialSerializer
from core.serializers import REQUIRED, StrictChoiceField, StrictIntegerField, StrictSerializer
from permissions.models import RateLimit
from routes.serializers import DEFAULT_DOMAIN, DomainField, MethodListField, PatternField

# PositiveIntegerField is a 32-bit integer on PostgreSQL.
MAX_LIMIT = 2**31 - 1


class LimitFields(StrictSerializer):
    limit = StrictIntegerField(min_value=1, max_value=MAX_LIMIT)
    window = StrictChoiceField(choices=RateLimit.Window.values)


class PermissionEntrySerializer(StrictSerializer):
    """`{domain, pattern, methods}`: the client holds exactly these methods on that route."""

    domain = DomainField()
    pattern = PatternField()
    methods = MethodListField()


class RateLimitEntrySerializer(LimitFields):
    """`{limit, window}` for all routes, or with `domain` and `pattern` for one route."""

    domain = DomainField(required=False, default=None)
    pattern = PatternField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("domain") is not None and "pattern" not in attrs:
            raise ValidationError({"pattern": [REQUIRED]})
        if "pattern" in attrs and attrs.get("domain") is None:
            attrs["domain"] = DEFAULT_DOMAIN
        return attrs


class ClientEntrySerializer(ClientSerializer):
    """A client of the config file, with everything that hangs off it."""

    created_at = None
    updated_at = None
    credentials = CredentialSerializer(many=True, required=False)
    rate_limits = RateLimitEntrySerializer(many=True, required=False)
    permissions = PermissionEntrySerializer(many=True, required=False)
