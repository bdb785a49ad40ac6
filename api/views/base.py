"""What the API's object endpoints share: lookups that never leak a malformed id into an
error, ETags, and answers that carry a secret marked `no-store`."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from api.etags import ETagged


def no_store(response: Response) -> Response:
    """For an answer that carries a secret: no cache may keep it."""
    response["Cache-Control"] = "no-store"
    return response


class ObjectViewSet(ETagged, viewsets.GenericViewSet):
    def get_object(self) -> Any:
        try:
            return super().get_object()
        except (ValidationError, ValueError, TypeError):
            # A malformed id (`/clients/not-a-uuid/`) is an object that does not exist; the
            # message must not repeat it.
            raise Http404 from None

    @contextmanager
    def writing(self, request: Request) -> Any:
        """The object, locked until the write commits, once If-Match (if sent) matched."""
        with transaction.atomic():
            instance = self.get_object()
            type(instance).objects.select_for_update(of=("self",)).filter(pk=instance.pk).first()
            self.check_if_match(request, instance)
            yield instance

    def validated(
        self, request: Request, serializer: type[Serializer] | None = None, *, partial: bool = False
    ) -> dict[str, Any]:
        """The request's data as the serializer (default: the view's) reads it, or a 400."""
        found = (serializer or self.get_serializer_class())(data=request.data, partial=partial)
        found.is_valid(raise_exception=True)
        return dict(found.validated_data)

    def fresh(self, instance: models.Model) -> Any:
        """The object re-read as the list shows it (related rows prefetched)."""
        return self.get_queryset().get(pk=instance.pk)
