"""Rows the decision side keeps in the database for itself (never configuration)."""

from __future__ import annotations

from django.db import models

from core import config_version


class ConfigVersion(models.Model):
    """One row (id 1): the token every configuration write replaces (core/config_version.py).

    Decision processes poll it by primary key; writes go through `config_version.bump()` in the
    writer's own transaction, never through this model.
    """

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    class Meta:
        db_table = config_version.TABLE

    def __str__(self) -> str:
        return f"config version {self.token} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


class SpoolCursor(models.Model):
    """How far one audit spool segment (authz/audit_spool.py) has been copied into the
    database; written in the same transaction as the rows it counts."""

    segment = models.CharField(max_length=200, unique=True)
    offset = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.segment} @ {self.offset}"


class ConfigChange(models.Model):
    """What one configuration write touched (core/config_version.py writes it, in the write's
    own transaction); decision processes read it to rebuild only what changed."""

    client_id = models.CharField(max_length=36, null=True)  # noqa: DJ001 - NULL: not one client
    routes = models.BooleanField(default=False)
    everything = models.BooleanField(default=False)
    # For pruning old rows.
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = config_version.LOG_TABLE

    def __str__(self) -> str:
        scope = "everything" if self.everything else "routes" if self.routes else self.client_id
        return f"change {self.pk}: {scope}"
