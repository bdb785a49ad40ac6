"""/api/v1/audit-events/ and /api/v1/decisions/: the audit trail and the decision records,
read-only, newest first, in cursor pages.

The decision table holds tens of millions of rows: every filter here is one of the indexes of
`audit.models.DecisionRecord` on (column, time), read in time order, and nothing counts the
table. `since`/`until` narrow the time range of the same indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import viewsets

from api.pagination import NewestFirst
from api.serializers import AuditEventSerializer, DecisionRecordSerializer
from audit.models import AuditEvent, DecisionRecord
from authz.reasons import Detail, Reason


class UtcTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 time, compared in UTC: the database refuses some offsets Python accepts
    (+21:51), and a time at the very edge of the calendar has no UTC form (nothing matches)."""

    def filter(self, qs: QuerySet, value: datetime | None) -> QuerySet:
        if value is None:
            return qs
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            return qs.none()
        return super().filter(qs, value)


class TimeRange(filters.FilterSet):
    since = UtcTimeFilter(field_name="time", lookup_expr="gte")
    until = UtcTimeFilter(field_name="time", lookup_expr="lt")


class AuditEventFilter(TimeRange):
    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object_type", "object_id"]


class DecisionFilter(TimeRange):
    client = filters.UUIDFilter(field_name="client_id")
    route = filters.NumberFilter(field_name="route_id")
    reason = filters.ChoiceFilter(choices=[(r.value, r.value) for r in Reason])
    detail = filters.ChoiceFilter(choices=[(d.value, d.value) for d in Detail])

    class Meta:
        model = DecisionRecord
        fields = ["client", "route", "reason", "detail"]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Configuration changes: who did what to which object, and when."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = NewestFirst


class DecisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Decisions of the decision endpoints: every deny, and the sampled allows."""

    queryset = DecisionRecord.objects.all()
    serializer_class = DecisionRecordSerializer
    filterset_class = DecisionFilter
    pagination_class = NewestFirst
