"""The audit trail: one row per configuration change, and one per audited decision."""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """Who did what to which object, and when. `detail` never holds a secret."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200, help_text="user:<name>, cli:<os user>/<command>, …")
    action = models.CharField(max_length=64, db_index=True, help_text="e.g. route.created")
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

    class Shape(models.TextChoices):
        NGINX = "nginx", "nginx auth_request"
        FORWARD = "forward", "forward auth (Caddy, Traefik)"
        INGRESS = "ingress", "ingress-nginx"
        ENVOY = "envoy", "Envoy ext_authz"

    # The decision's own clock, not the insert's: rows arrive up to a second late.
    time = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=32)
    detail = models.CharField(max_length=32, blank=True, help_text="Why, in more words (401s).")
    client_id = models.UUIDField(null=True, blank=True)
    client_name = models.CharField(max_length=100, blank=True)
    route_id = models.BigIntegerField(null=True, blank=True)
    route_label = models.CharField(max_length=300, blank=True, help_text="domain and pattern")
    method = models.CharField(max_length=16, blank=True)
    host = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=2000, blank=True, help_text="Normalised; never the query.")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    shape = models.CharField(max_length=16, choices=Shape.choices)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [
            # The admin's filters, each shown newest first.
            models.Index(fields=["client_id", "-time"], name="audit_decision_client_idx"),
            models.Index(fields=["route_id", "-time"], name="audit_decision_route_idx"),
            models.Index(fields=["reason", "-time"], name="audit_decision_reason_idx"),
        ]

    def __str__(self) -> str:
        who = self.client_name or "anonymous"
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.reason} {who} {self.method} {self.path}"
