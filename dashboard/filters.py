"""Changelist filters that never ask the database for their choices.

Django's field filters list the distinct values of a column: on a table of millions of rows
that is a scan per page view. These offer fixed choices (enums, time ranges) or a text box.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone


class FixedChoicesFilter(admin.SimpleListFilter):
    """`field = value` for one of a fixed list of values; anything else is ignored."""

    field = ""
    options: tuple[tuple[str, str], ...] = ()

    def lookups(self, request: HttpRequest, model_admin: Any) -> tuple[tuple[str, str], ...]:
        return self.options

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in dict(self.options):
            return queryset.filter(**{self.field: self.value()})
        return queryset


class RecentFilter(admin.SimpleListFilter):
    """The last hour, day, week or 30 days: one range read from the time index."""

    title = "time"
    parameter_name = "within"
    field = "time"
    RANGES = {
        "hour": ("Last hour", timedelta(hours=1)),
        "day": ("Last 24 hours", timedelta(days=1)),
        "week": ("Last 7 days", timedelta(days=7)),
        "month": ("Last 30 days", timedelta(days=30)),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        chosen = self.RANGES.get(self.value() or "")
        if chosen is None:
            return queryset
        return queryset.filter(**{f"{self.field}__gte": timezone.now() - chosen[1]})


class TextFilter(admin.SimpleListFilter):
    """A text box instead of a list of links; subclasses turn the text into a filter."""

    template = "admin/dashboard/text_filter.html"
    placeholder = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Django shows a filter only when it has lookups; the box is the one "choice".
        return [("", "")]

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        keep = changelist.get_filters_params()
        keep.pop(self.parameter_name, None)
        yield {
            "value": self.value() or "",
            "placeholder": self.placeholder,
            "parameter_name": self.parameter_name,
            # The other filters' values, as hidden fields of the box's form.
            "hidden": [(name, value) for name, values in keep.items() for value in values],
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }
