"""What the dashboard's object pages share."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse


class ObjectPage:
    """A ModelAdmin mixin: the change page of an existing object gets `page_context`."""

    def page_context(self, request: HttpRequest, obj: Model) -> dict[str, Any]:
        raise NotImplementedError

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        extra = {**(extra_context or {})}
        if obj is not None:
            extra.update(self.page_context(request, obj))
        return super().change_view(request, object_id, form_url, extra)  # type: ignore[misc]
