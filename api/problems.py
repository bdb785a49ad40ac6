"""Every error of the API as an RFC 9457 problem detail (`application/problem+json`), made in
this one handler: DRF's own errors, the services' domain errors (`core.errors`), Django's
ValidationError with its field dict, and a config file's located problems.

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "2 problems", "errors": [{"location": "methods.GET", "message": "..."}]}

A message never repeats a value that may be a secret: the services' and serializers' messages
already follow `core.redaction`, and this handler adds nothing of the request.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import Conflict, GatekeeperError, NotFound
from core.serializers import TOP_LEVEL, django_errors, located
from permissions.configfile.apply import ApplyError
from permissions.configfile.spec import ConfigError

CONTENT_TYPE = "application/problem+json"


def problem(
    code: int, detail: str, errors: list[dict[str, str]] | None = None, **headers: str
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(code).phrase,
        "status": code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(body, status=code, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _errors(detail: Any) -> list[dict[str, str]]:
    return [
        {"location": "" if where == TOP_LEVEL else where, "message": message}
        for where, message in located(detail)
    ]


def _invalid(errors: list[dict[str, str]]) -> Response:
    count = len(errors)
    summary = errors[0]["message"] if count == 1 else f"{count} problems"
    return problem(status.HTTP_400_BAD_REQUEST, summary, errors)


def problem_response(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ConfigError):
        errors = [{"location": i.location, "message": i.message} for i in exc.issues]
        return _invalid(errors)
    if isinstance(exc, DjangoValidationError):
        return _invalid(_errors(django_errors(exc)))
    if isinstance(exc, exceptions.ValidationError):
        return _invalid(_errors(exc.detail))
    if isinstance(exc, NotFound | Http404 | exceptions.NotFound):
        text = str(exc) if isinstance(exc, NotFound) else "Not found."
        return problem(status.HTTP_404_NOT_FOUND, text)
    if isinstance(exc, Conflict | ApplyError):
        return problem(status.HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, GatekeeperError):
        return problem(status.HTTP_400_BAD_REQUEST, str(exc))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    headers = {name: value for name, value in response.items() if name != "Content-Type"}
    result = problem(response.status_code, str(detail))
    for name, value in headers.items():
        result[name] = value
    return result
