"""The validation vocabulary shared by the REST API and the config file (issue 12): strict
Django REST framework fields, a serializer that refuses unknown fields, and one way to turn
DRF's nested errors into located messages (`clients[3].permissions[0].methods: ...`).

Strict, because a declarative file and an API must not guess: DRF's own fields turn `7` into
`"7"` and `"yes"` into True; these refuse any value of the wrong type and say what it was.
Messages follow `core.redaction`: a value that fails a choice is quoted only when it is too
short to be a credential, and never more than a few dozen characters of it.

The rules themselves (the pattern grammar, the client-name rule, what an importable key is)
live with the models and services; the fields here only call them.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import SkipField, empty
from rest_framework.settings import api_settings

from core.redaction import SHORTEST_SECRET, describe, quote_short

REQUIRED = "this field is required"
TOP_LEVEL = "(top level)"
# How alike a value and a choice must be (difflib's ratio) for "did you mean" to name it.
TYPO_SIMILARITY = 0.7
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def close_match(value: Any, choices: Sequence[str]) -> str | None:
    """The choice `value` is a typo of, if any (so the message can name the choice instead of
    repeating the value). Twice as long as every choice is no typo, and is not compared."""
    if not isinstance(value, str) or len(value) > 2 * max(len(choice) for choice in choices):
        return None
    close = difflib.get_close_matches(value, choices, n=1, cutoff=TYPO_SIMILARITY)
    return close[0] if close else None


def not_one_of(value: Any, choices: Sequence[str]) -> str:
    # Not quoted when long: a key pasted into `kind:` must not come back in the error.
    message = f"{quote_short(value)} is not one of {', '.join(choices)}"
    close = close_match(value, choices)
    return f"{message} (did you mean {close}?)" if close else message


class _Strict:
    """Shared by the strict fields: `null_is_absent` fields read null as not given (YAML's
    `credentials:` with nothing after it); every other null is a value of the wrong type."""

    null_is_absent = False

    def run_validation(self, data: Any = empty) -> Any:
        if data is empty or data is None:
            return super().run_validation(data)  # type: ignore[misc]
        # DRF's steps for a value that is there, without the calls that only handle absence:
        # a 10,000-entry file validates some 100,000 values.
        value = self.to_internal_value(data)  # type: ignore[attr-defined]
        if self.validators:  # type: ignore[attr-defined]
            self.run_validators(value)  # type: ignore[attr-defined]
        return value

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None and self.null_is_absent:
            data = empty
        if data is None:
            self.fail("type", kind=describe(None))
        return super().validate_empty_values(data)  # type: ignore[misc]


class StrictCharField(_Strict, serializers.CharField):
    """A string, taken exactly as written (no trimming, no conversion of other types).

    `rule` is a function of the model or service layer that checks the string and returns the
    value to keep (e.g. normalised), raising ValueError or Django's ValidationError with a
    message for people.
    """

    default_error_messages = {
        "required": REQUIRED,
        "type": "must be a string, not {kind}",
        "max_length": "may be at most {max_length} characters long",
        "null_character": "may not hold a NUL character",
        "surrogate": "may not hold unpaired surrogate characters",
    }

    def __init__(self, *, rule: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        # For the schema: "" is checked by the rule (a blank pattern is an error, a blank
        # description is not), not by CharField.
        kwargs.setdefault("allow_blank", True)
        self.rule = rule
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        # Not CharField's: it answers "" before the rule sees it (a blank pattern is an error).
        if type(data) is str:
            # The common case, straight to the checks: to_internal_value checks what CharField's
            # validators would (length, NUL, surrogates; they stay for the schema) in a fraction
            # of the time, and a 10,000-entry file holds some 100,000 strings.
            return self.to_internal_value(data)
        return serializers.Field.run_validation(self, data)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("type", kind=describe(data))
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        # Neither can be stored in PostgreSQL text.
        if "\x00" in data:
            self.fail("null_character")
        if not data.isascii() and any("\ud800" <= char <= "\udfff" for char in data):
            self.fail("surrogate")
        if self.rule is None:
            return data
        try:
            return self.rule(data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from None


class StrictChoiceField(_Strict, serializers.ChoiceField):
    """One of fixed strings, compared exactly; a near miss gets "did you mean"."""

    default_error_messages = {"required": REQUIRED, "type": "must be a string, not {kind}"}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data not in self.choice_strings_to_values:
            raise ValidationError(not_one_of(data, list(self.choice_strings_to_values)))
        return data


class StrictIntegerField(_Strict, serializers.IntegerField):
    """A whole number (true and false are not numbers), within bounds."""

    default_error_messages = {
        "required": REQUIRED,
        "type": "must be a whole number of at least {min_value}",
        "invalid": "must be a whole number of at least {min_value}",
        "min_value": "must be a whole number of at least {min_value}",
        "max_value": "may be at most {max_value}",
    }

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            self.fail("invalid", min_value=self.min_value)
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid", min_value=self.min_value)
        if self.min_value is not None and data < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        if self.max_value is not None and data > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        return data


class StrictBooleanField(serializers.BooleanField):
    """true or false, nothing that merely looks like one."""

    default_error_messages = {"invalid": "must be true or false, not {kind}"}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", kind=describe(data))
        return data


class StrictUUIDField(_Strict, serializers.UUIDField):
    default_error_messages = {
        "required": REQUIRED,
        "type": "must be a string, not {kind}",
        "invalid": "{value} is not a UUID",
    }

    def to_internal_value(self, data: Any) -> uuid.UUID:
        if isinstance(data, uuid.UUID):
            return data
        if not isinstance(data, str):
            self.fail("type", kind=describe(data))
        try:
            return uuid.UUID(data)
        except ValueError:
            raise ValidationError(
                self.error_messages["invalid"].format(value=quote_short(data))
            ) from None


class StrictListSerializer(serializers.ListSerializer):
    """A list of entries; null is an empty list; errors keep each entry's index."""

    default_error_messages = {"not_a_list": "must be a list, not {kind}"}

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data is empty:
            return True, []
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            message = self.error_messages["not_a_list"].format(kind=describe(data))
            raise ValidationError({NON_FIELD: [message]})
        result, errors, failed = [], [], False
        for item in data:
            try:
                result.append(self.child.run_validation(item))
                errors.append({})
            except ValidationError as exc:
                errors.append(exc.detail)
                failed = True
        if failed:
            raise ValidationError(errors)
        return result


class StrictSerializer(serializers.Serializer):
    """A mapping of exactly the declared fields: an unknown field is an error that names the
    field it is a typo of, or else lists the fields there are."""

    default_error_messages = {"not_a_mapping": "must be a mapping with {fields}, not {kind}"}

    class Meta:
        list_serializer_class = StrictListSerializer

    def run_validation(self, data: Any = empty) -> Any:
        # DRF's, less its model-validator machinery (these serializers have none): the shape,
        # then `validate` for the rules across fields.
        is_empty, data = self.validate_empty_values(data)
        if is_empty:
            return data
        value = self.to_internal_value(data)
        try:
            return self.validate(value)
        except ValidationError as exc:
            detail = exc.detail
            raise ValidationError(
                detail if isinstance(detail, dict) else {NON_FIELD: detail}
            ) from None
        except DjangoValidationError as exc:
            raise ValidationError(django_errors(exc)) from None

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        names = self._names
        if not isinstance(data, Mapping):
            message = self.error_messages["not_a_mapping"].format(
                fields=", ".join(names), kind=describe(data)
            )
            raise ValidationError({NON_FIELD: [message]})
        errors: dict[str, Any] = {}
        for key in data:
            if key in names:
                continue
            close = close_match(key, names)
            hint = f" (did you mean {close}?)" if close else f"; use {', '.join(names)}"
            if close is not None or len(str(key)) < SHORTEST_SECRET:
                errors[str(key)] = [f"unknown field{hint}"]
            else:
                # `- {kind: api_key, gk_...}` makes the key a field name: do not repeat it.
                errors.setdefault(NON_FIELD, []).append(f"unknown field {quote_short(key)}{hint}")
        value: dict[str, Any] = {}
        for field in self._fields_to_read:
            try:
                found = field.run_validation(data.get(field.field_name, empty))
            except ValidationError as exc:
                errors[field.field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[field.field_name] = django_errors(exc)
            except SkipField:
                continue
            else:
                value[field.source] = found
        if errors:
            raise ValidationError(errors)
        return value

    @cached_property
    def _names(self) -> list[str]:
        return [field.field_name for field in self._fields_to_read]

    @cached_property
    def _fields_to_read(self) -> list[serializers.Field]:
        # DRF's own loop re-reads every field's attributes per entry; this list is made once.
        return [field for field in self.fields.values() if not field.read_only]


# --- errors as located messages --------------------------------------------------------------


def at(where: str, name: object) -> str:
    """`where.name`, or `name` at the top."""
    return f"{where}.{name}" if where else str(name)


def located(detail: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(location, message) for every message in a DRF error detail, in the order given.

    A dict names fields (its non-field key is the place itself), a list of strings holds
    messages, and a list of dicts or lists holds the errors of a list's entries by index.
    """
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            yield from located(value, where if key == NON_FIELD else at(where, key))
    elif isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            for message in detail:
                yield (where or TOP_LEVEL, str(message))
            return
        for index, item in enumerate(detail):
            if isinstance(item, ErrorDetail | str):
                yield (where or TOP_LEVEL, str(item))
            elif item:
                yield from located(item, f"{where}[{index}]")
    else:
        yield (where or TOP_LEVEL, str(detail))


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]] | list[str]:
    """A Django ValidationError (what the services raise) as a DRF error detail."""
    if hasattr(exc, "error_dict"):
        return {
            NON_FIELD if field == "__all__" else field: messages
            for field, messages in exc.message_dict.items()
        }
    return list(exc.messages)


def model_rule(field: Any) -> Callable[[Any], Any]:
    """A `StrictCharField` rule that runs a model field's validators (so the admin, the API,
    the config file and the services' `full_clean` give one message for one rule)."""

    def check(value: Any) -> Any:
        field.run_validators(value)
        return value

    return check
