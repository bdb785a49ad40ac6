"""`ETag` and `If-Match` on single objects, so that two admins cannot silently overwrite each
other: read an object, send its ETag back in `If-Match` with the change, and a change made by
someone else in between answers 412 Precondition Failed instead of being overwritten.

If-Match is optional (a write without it is last-writer-wins, as in the admin), so that a
quick curl still works; scripts that read before they write should send it. The tag is a hash
of the object as the API shows it, so any change anyone makes changes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it (If-Match): read it again."
    default_code = "precondition_failed"


class ETagged:
    """A ModelViewSet mixin: ETag on retrieve and on every write's answer; `check_if_match`
    before a write."""

    def etag(self, instance: models.Model) -> str:
        data = self.get_serializer(instance).data  # type: ignore[attr-defined]
        text = json.dumps(data, sort_keys=True, default=str)
        return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'

    def tagged(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        response = Response(self.get_serializer(instance).data, status=code)  # type: ignore[attr-defined]
        response["ETag"] = self.etag(instance)
        return response

    def check_if_match(self, request: Request, instance: models.Model) -> None:
        wanted = request.headers.get("If-Match")
        if wanted is None:
            return
        tags = {tag.strip() for tag in wanted.split(",")}
        if "*" not in tags and self.etag(instance) not in tags:
            raise PreconditionFailed

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.tagged(self.get_object())  # type: ignore[attr-defined]
