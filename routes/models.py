"""Routes: which host + path a rule applies to, and how each HTTP method authenticates."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from routes import patterns


class Method(models.TextChoices):
    """HTTP methods a route can configure (case-sensitive on the wire: HEAD is its own)."""

    GET = "GET", "GET"
    HEAD = "HEAD", "HEAD"
    POST = "POST", "POST"
    PUT = "PUT", "PUT"
    PATCH = "PATCH", "PATCH"
    DELETE = "DELETE", "DELETE"
    OPTIONS = "OPTIONS", "OPTIONS"


class Auth(models.TextChoices):
    """What a method requires. `any` accepts an API key or an HMAC signature."""

    PUBLIC = "public", "public"
    API_KEY = "api_key", "API key"
    HMAC = "hmac", "HMAC"
    ANY = "any", "API key or HMAC"


class Route(models.Model):
    domain = models.CharField(
        max_length=patterns.MAX_DOMAIN_LENGTH,
        default="*",
        help_text="api.example.com, *.example.com (also matches example.com) or * for every host.",
    )
    pattern = models.CharField(
        max_length=patterns.MAX_PATTERN_LENGTH,
        help_text="/api/users/me (exact), /api/users/{id}/orders (placeholder) or /api/users/*.",
    )
    service_name = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain", "pattern"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"),
                "pattern",
                name="routes_route_domain_pattern_uniq",
                violation_error_message="A route with this domain and pattern already exists.",
            ),
            models.CheckConstraint(
                condition=Q(domain__regex=patterns.DOMAIN_REGEX) & ~Q(domain__contains="\n"),
                name="routes_route_domain_format",
                violation_error_message="The domain is not valid.",
            ),
            models.CheckConstraint(
                condition=Q(pattern__regex=patterns.PATTERN_REGEX) & ~Q(pattern__contains="\n"),
                name="routes_route_pattern_format",
                violation_error_message="The pattern is not valid.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain}{self.pattern}"

    def clean(self) -> None:
        errors = {}
        try:
            self.domain = patterns.normalize_domain(self.domain)
        except patterns.PatternError as exc:
            errors["domain"] = str(exc)
        try:
            patterns.parse_pattern(self.pattern)
        except patterns.PatternError as exc:
            errors["pattern"] = str(exc)
        if errors:
            raise ValidationError(errors)

    def method_rules(self) -> dict[str, str]:
        """{method: auth} in canonical method order."""
        rules = {rule.method: rule.auth for rule in self.methods.all()}
        return {m: rules[m] for m in patterns.METHODS if m in rules}


class RouteMethod(models.Model):
    """The auth requirement of one method on one route. No row: the method is not configured."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="methods")
    method = models.CharField(max_length=7, choices=Method.choices)
    auth = models.CharField(max_length=8, choices=Auth.choices, default=Auth.API_KEY)

    class Meta:
        ordering = ["route", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["route", "method"],
                name="routes_routemethod_route_method_uniq",
                violation_error_message="This method is already configured on the route.",
            ),
            models.CheckConstraint(
                condition=Q(method__in=Method.values), name="routes_routemethod_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(auth__in=Auth.values), name="routes_routemethod_auth_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.route}: {self.auth}"
