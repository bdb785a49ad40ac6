"""Which client may call which route with which methods, and how often."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from clients.models import Client
from routes import patterns
from routes.models import Route


class Permission(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="permissions")
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="permissions")
    # Comma-separated, canonical order (patterns.METHODS), non-empty: "GET,POST". A string
    # rather than rows or JSON so that one check constraint holds it on PostgreSQL and SQLite.
    methods = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["client", "route"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "route"],
                name="permissions_permission_client_route_uniq",
                violation_error_message="This client already has a permission on this route.",
            ),
            models.CheckConstraint(
                condition=Q(methods__regex=patterns.METHOD_LIST_REGEX) & ~Q(methods__contains="\n"),
                name="permissions_permission_methods_valid",
                violation_error_message="Methods must be a non-empty list of HTTP methods.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} → {self.route} [{self.methods}]"

    @property
    def method_list(self) -> tuple[str, ...]:
        return tuple(self.methods.split(",")) if self.methods else ()


class RateLimit(models.Model):
    """At most `limit` decisions per `window` for a client, on one route or on all of them."""

    class Window(models.TextChoices):
        SECOND = "second"
        MINUTE = "minute"
        HOUR = "hour"
        DAY = "day"

    WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="rate_limits")
    route = models.ForeignKey(
        Route,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rate_limits",
        help_text="Empty: the limit counts the client's calls to every route.",
    )
    limit = models.PositiveIntegerField()
    window = models.CharField(max_length=10, choices=Window.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["client", "route", "window"]
        constraints = [
            models.CheckConstraint(
                condition=Q(limit__gte=1), name="permissions_ratelimit_limit_positive"
            ),
            models.CheckConstraint(
                condition=Q(window__in=["second", "minute", "hour", "day"]),
                name="permissions_ratelimit_window_valid",
            ),
            # One limit per window for the client as a whole, and one per window per route.
            models.UniqueConstraint(
                fields=["client", "window"],
                condition=Q(route__isnull=True),
                name="permissions_ratelimit_client_window_uniq",
                violation_error_message="The client already has a limit for this window.",
            ),
            models.UniqueConstraint(
                fields=["client", "route", "window"],
                condition=Q(route__isnull=False),
                name="permissions_ratelimit_client_route_window_uniq",
                violation_error_message="The client already has a limit for this route and window.",
            ),
        ]

    def __str__(self) -> str:
        scope = self.route if self.route_id else "all routes"
        return f"{self.client}: {self.limit}/{self.window} on {scope}"

    @property
    def window_seconds(self) -> int:
        return self.WINDOW_SECONDS[self.window]
