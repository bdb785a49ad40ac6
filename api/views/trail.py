"""/api/v1/audit-events/ and /api/v1/decisions/: the audit trail and the decision records,
read-only, newest first, in cursor pages.

The decision table holds tens of millions of rows: every filter here is one of the indexes of
`audit.models.DecisionRecord` on (column, time), read in time order, and nothing counts the
table. `since`/`until` narrow the time range of the same indexes.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import viewsets

from api.pagination import NewestFirst
from api.serializers import AuditEventSerializer, DecisionRecordSerializer
from audit.models import AuditEvent, DecisionRecord
from authz.reasons import Detail, Reason


class TimeRange(filters.FilterSet):
    since = filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt")


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
