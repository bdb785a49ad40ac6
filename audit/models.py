"""The audit trail: one row per configuration change, and one per audited decision."""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """Who did what to which object, and when. `detail` never holds a secret."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    # user:<name>, cli:<os user>/<command>, config:<file>, system:<what>
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True)  # e.g. route.created
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [
            # The admin's "history of this object" filter.
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_repr}"


class DecisionRecord(models.Model):
    """One decision of the decision endpoints: every deny, and a sample of allows.

    Written in batches off the request path (authz/decision_log.py). Clients and routes are
    named by id and by their name at the time, not by foreign key: the trail outlives them,
    and this app sits below `clients` and `routes`. Never a secret, never a query string.
    """

    # The decision's own clock, not the insert's: rows arrive up to a second late.
    time = models.DateTimeField()
    reason = models.CharField(max_length=32)
    detail = models.CharField(max_length=32, blank=True)  # why, in more words (401s)
    client_id = models.UUIDField(null=True, blank=True)
    client_name = models.CharField(max_length=100, blank=True)
    route_id = models.BigIntegerField(null=True, blank=True)
    route_label = models.CharField(max_length=300, blank=True)  # domain and pattern
    method = models.CharField(max_length=16, blank=True)
    host = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=2000, blank=True)  # normalised; never the query
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    # The proxy shape's name, as authz stores it (authz keeps the list of shapes).
    shape = models.CharField(max_length=16)

    class Meta:
        ordering = ["-time", "-id"]
        # The table grows by every deny (10 million rows is a normal month under attack), so
        # every list the admin shows is one of these indexes read newest first, never a scan
        # or a count of the table: the unfiltered list and the time ranges, then each filter
        # of the decision list (client, route, reason, detail, proxy shape, source address),
        # each combined with the time order. Other filters combined with one of these narrow
        # the rows that index finds.
        indexes = [
            models.Index(fields=["-time", "-id"], name="audit_decision_time_idx"),
            models.Index(fields=["client_id", "-time"], name="audit_decision_client_idx"),
            models.Index(fields=["route_id", "-time"], name="audit_decision_route_idx"),
            models.Index(fields=["reason", "-time"], name="audit_decision_reason_idx"),
            # Most rows have no detail: the index holds only the ones that do.
            models.Index(
                fields=["detail", "-time"],
                name="audit_decision_detail_idx",
                condition=~models.Q(detail=""),
            ),
            models.Index(fields=["shape", "-time"], name="audit_decision_shape_idx"),
            models.Index(fields=["source_ip", "-time"], name="audit_decision_source_idx"),
        ]

    def __str__(self) -> str:
        who = self.client_name or "anonymous"
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.reason} {who} {self.method} {self.path}"


class DecisionCount(models.Model):
    """How many decisions had each reason in each minute: every decision, not only the
    audited ones, so the overview can chart traffic without reading decision records.

    The decision writer keeps the counts in memory and adds them once per flush with
    `audit.services.add_decision_counts` (one upsert of a few rows a second per process).
    """

    minute = models.DateTimeField()  # the minute's start, UTC
    reason = models.CharField(max_length=32)
    count = models.BigIntegerField()

    class Meta:
        ordering = ["-minute", "reason"]
        constraints = [
            # The upsert's conflict target; also the index of "the last hour".
            models.UniqueConstraint(fields=["minute", "reason"], name="audit_decisioncount_uniq"),
            models.CheckConstraint(
                condition=models.Q(count__gte=0), name="audit_decisioncount_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.reason} {self.count}"
