"""The audit trail: one row per configuration change (decisions come with the audit issue)."""

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
