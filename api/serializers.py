"""What the API alone reads and shows, around the shared serializers of the apps (routes,
clients, permissions): references by id, credentials as shown (never a digest or a sealed
secret), rate limits with their usage, the audit trail, and the explanation of a request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from audit.models import AuditEvent, DecisionRecord
from authz.limit_usage import limit_usage
from clients.models import Client, Credential
from clients.serializers import CredentialSerializer
from core.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
    StrictUUIDField,
)
from permissions.configfile.schema import ConfigSerializer
from permissions.models import RateLimit
from permissions.serializers import MAX_LIMIT, LimitFields
from routes.models import Route
from routes.patterns import METHODS
from routes.serializers import MethodListField

_MISSING = {"does_not_exist": "No such {noun}.", "incorrect_type": "must be {noun} id"}


def _ref(model: type, noun: str, *, pk_field: serializers.Field | None = None, **kw: Any) -> Any:
    """A reference by id that never repeats the value it could not find."""
    messages = {key: text.format(noun=noun) for key, text in _MISSING.items()}
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.all(), pk_field=pk_field, error_messages=messages, **kw
    )


def client_ref(**kw: Any) -> Any:
    return _ref(Client, "client", pk_field=StrictUUIDField(), **kw)


def route_ref(**kw: Any) -> Any:
    return _ref(Route, "route", **kw)


class CredentialOutSerializer(serializers.ModelSerializer):
    """A credential as the API shows it: its prefix and dates, never its key or secret."""

    client_name = serializers.CharField(source="client.name", read_only=True)
    state = serializers.ChoiceField(choices=["live", "expired", "revoked"], read_only=True)

    class Meta:
        model = Credential
        fields = ["id", "client", "client_name", *Credential.SHOWN_FIELDS, "state"]
        read_only_fields = fields


class IssueCredentialSerializer(CredentialSerializer):
    """A credential to issue for a client: generated, or imported (`key` / `secret`)."""

    client = client_ref()
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class IssuedCredentialSerializer(CredentialOutSerializer):
    """The one answer that carries a new secret (sent with `Cache-Control: no-store`)."""

    secret = serializers.CharField(read_only=True, help_text="Shown only in this answer.")
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    retiring = CredentialOutSerializer(many=True, read_only=True)

    class Meta(CredentialOutSerializer.Meta):
        fields = [*CredentialOutSerializer.Meta.fields, "secret", "warnings", "retiring"]
        read_only_fields = fields


class RotateSerializer(StrictSerializer):
    client = client_ref()
    kind = StrictChoiceField(choices=Credential.Kind.values)
    grace_seconds = StrictIntegerField(min_value=0, max_value=365 * 86400, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("grace_seconds", settings.GATEKEEPER_ROTATION_GRACE)
        return attrs


class PermissionSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    client = client_ref()
    route = route_ref()
    methods = MethodListField()
    client_name = serializers.CharField(source="client.name", read_only=True)
    route_label = serializers.CharField(source="route.__str__", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class MethodsSerializer(StrictSerializer):
    methods = MethodListField()


class RevokeSerializer(StrictSerializer):
    methods = MethodListField(required=False, help_text="Default: every method it holds.")


class RateLimitSerializer(LimitFields):
    """A limit with its use of the current window (null when the counters cannot be read)."""

    id = serializers.IntegerField(read_only=True)
    client = client_ref()
    route = route_ref(allow_null=True, required=False, default=None)
    used = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def _usage(self, rate_limit: RateLimit) -> Any:
        return self.context.get("usage", {}).get(rate_limit.pk)

    def get_used(self, rate_limit: RateLimit) -> int | None:
        usage = self._usage(rate_limit)
        return None if usage is None else usage.used

    def get_remaining(self, rate_limit: RateLimit) -> int | None:
        usage = self._usage(rate_limit)
        return None if usage is None else usage.remaining


class LimitSerializer(StrictSerializer):
    limit = StrictIntegerField(min_value=1, max_value=MAX_LIMIT)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "time",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "detail",
        ]
        read_only_fields = fields


class DecisionRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionRecord
        fields = [
            "id",
            "time",
            "reason",
            "detail",
            "client_id",
            "client_name",
            "route_id",
            "route_label",
            "method",
            "host",
            "path",
            "source_ip",
            "shape",
        ]
        read_only_fields = fields


# --- the explanation of a request --------------------------------------------------------------


class ExplainRequestSerializer(StrictSerializer):
    method = StrictCharField(default="GET", max_length=16)
    host = StrictCharField(max_length=300)
    uri = StrictCharField(max_length=8000, help_text="The raw request target, e.g. /api/x?y=1.")
    headers = serializers.ListField(
        child=StrictCharField(max_length=8000),
        required=False,
        default=list,
        write_only=True,
        help_text="'Name: value' lines: Authorization or X-API-Key. Never shown back.",
    )
    body = StrictCharField(default="", max_length=1_000_000)
    client = StrictUUIDField(
        required=False, help_text="Explain as this client, with a valid credential."
    )


class RouteRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    domain = serializers.CharField()
    pattern = serializers.CharField()
    service = serializers.CharField()
    methods = serializers.DictField(child=serializers.CharField())


class CandidateSerializer(serializers.Serializer):
    domain = serializers.CharField()
    route = RouteRuleSerializer()
    outcome = serializers.CharField()


class ClientSummarySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()


class LimitRuleSerializer(serializers.Serializer):
    route_id = serializers.IntegerField(allow_null=True)
    limit = serializers.IntegerField()
    window = serializers.IntegerField(help_text="Seconds.")


class ExplanationSerializer(serializers.Serializer):
    method = serializers.CharField()
    host = serializers.CharField(allow_null=True)
    path = serializers.CharField(allow_null=True)
    refused = serializers.CharField(allow_null=True)
    domains = serializers.ListField(child=serializers.CharField())
    candidates = CandidateSerializer(many=True)
    route = RouteRuleSerializer(allow_null=True)
    method_rule = serializers.CharField(allow_null=True)
    client = ClientSummarySerializer(allow_null=True)
    credential_id = serializers.IntegerField(allow_null=True)
    permission = serializers.ListField(
        child=serializers.ChoiceField(choices=METHODS), allow_null=True
    )
    rate_limits = LimitRuleSerializer(many=True)
    reason = serializers.CharField()
    detail = serializers.CharField(allow_null=True)
    status = serializers.IntegerField()
    allowed = serializers.BooleanField()
    assumed = serializers.CharField(allow_null=True)


# --- the whole configuration ---------------------------------------------------------------------


class ConfigOptionsSerializer(StrictSerializer):
    dry_run = StrictBooleanField(default=False, help_text="Show the changes; make none.")
    prune = StrictBooleanField(default=False, help_text="Delete what the file does not name.")


class ConfigApplySerializer(ConfigOptionsSerializer):
    config = ConfigSerializer(help_text="The config file's content, as JSON.")


class ChangeSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["+", "~", "-"])
    noun = serializers.CharField()
    subject = serializers.CharField()
    detail = serializers.CharField()
    text = serializers.CharField(help_text="The line apply_config prints.")


class GeneratedSecretSerializer(serializers.Serializer):
    client = serializers.CharField()
    client_id = serializers.UUIDField()
    kind = serializers.CharField()
    label = serializers.CharField()
    secret = serializers.CharField(source="plaintext")


class ConfigResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    changes = ChangeSerializer(many=True)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    left_alone = serializers.IntegerField()
    generated = GeneratedSecretSerializer(many=True, help_text="Shown only in this answer.")
    warnings = serializers.ListField(child=serializers.CharField())


def usage_context(rate_limits: list[RateLimit]) -> dict[str, Any]:
    """The serializer context that gives RateLimitSerializer the limits' usage."""
    return {"usage": {u.rate_limit.pk: u for u in limit_usage(rate_limits)}}
