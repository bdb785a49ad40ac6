"""Clients and credentials as the REST API and the config file read and write them.

A credential's value (`key` for an API key, `secret` for an HMAC secret) is write-only: it is
read only to import a credential from another system; what is generated is returned once by
the endpoint that issued it (`IssuedCredentialSerializer`), never by any other.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from clients import keys
from clients.models import Client, Credential
from core.serializers import (
    StrictCharField,
    StrictChoiceField,
    StrictSerializer,
    StrictUUIDField,
    model_rule,
)

# Which field holds an imported value, per credential kind.
VALUE_FIELDS = {Credential.Kind.API_KEY: "key", Credential.Kind.HMAC: "secret"}


def _importable(value: str) -> str:
    keys.check_importable(value)
    return value


class ClientSerializer(StrictSerializer):
    # Optional on create: an HMAC client keeps the id it signs with when it moves here.
    id = StrictUUIDField(required=False)
    name = StrictCharField(
        max_length=Client._meta.get_field("name").max_length,
        allow_blank=False,
        rule=model_rule(Client._meta.get_field("name")),
    )
    status = StrictChoiceField(choices=Client.Status.values, default=Client.Status.ACTIVE)
    description = StrictCharField(default="")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class CredentialSerializer(StrictSerializer):
    """A credential to issue: generated (no value) or imported (`key` / `secret`)."""

    kind = StrictChoiceField(choices=Credential.Kind.values)
    label = StrictCharField(default="", max_length=Credential._meta.get_field("label").max_length)
    key = StrictCharField(required=False, write_only=True, rule=_importable)
    secret = StrictCharField(required=False, write_only=True, rule=_importable)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        wanted = VALUE_FIELDS[kind]
        errors = {
            name: [f"{name} is for kind {other}; kind {kind} takes {wanted}"]
            for other, name in VALUE_FIELDS.items()
            if name in attrs and name != wanted
        }
        if errors:
            raise ValidationError(errors)
        return attrs

    @staticmethod
    def value_of(attrs: dict[str, Any]) -> str | None:
        """The imported value in validated `attrs`, or None to generate one."""
        return attrs.get(VALUE_FIELDS[attrs["kind"]])
