"""Routes: which host + path a rule applies to, and how each HTTP method authenticates."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from routes import patterns
from routes.shadowing import ShadowIndex


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


class RouteQuerySet(models.QuerySet["Route"]):
    def shadow_index(self) -> ShadowIndex:
        """These routes, indexed to say which of them takes requests from which (shadowing)."""
        return ShadowIndex(self.order_by().values_list("id", "domain", "pattern"))


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
    # The pattern with placeholders unnamed (patterns.canonical_pattern), kept by save(): two
    # patterns with the same one match the same paths, so only one route may have it.
    canonical_pattern = models.CharField(max_length=patterns.MAX_PATTERN_LENGTH, editable=False)
    service_name = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RouteQuerySet.as_manager()

    class Meta:
        ordering = ["domain", "pattern"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"),
                "pattern",
                name="routes_route_domain_pattern_uniq",
                violation_error_message="A route with this domain and pattern already exists.",
            ),
            # `/a/{id}` and `/a/{order_id}` on one domain: the second would never match.
            models.UniqueConstraint(
                Lower("domain"),
                "canonical_pattern",
                name="routes_route_domain_canonical_pattern_uniq",
                violation_error_message=(
                    "A route on this domain already matches the same paths (placeholder names "
                    "do not matter)."
                ),
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.canonical_pattern = patterns.canonical_pattern(self.pattern)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "pattern" in update_fields:
            kwargs["update_fields"] = {*update_fields, "canonical_pattern"}
        super().save(*args, **kwargs)

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
        else:
            self.canonical_pattern = patterns.canonical_pattern(self.pattern)
            same = self.same_paths()
            if same is not None and "domain" not in errors:
                errors["pattern"] = _same_paths_message(same, self.pattern)
        if errors:
            raise ValidationError(errors)

    def same_paths(self) -> Route | None:
        """Another route on this domain whose pattern matches exactly the same paths."""
        others = Route.objects.filter(
            domain=self.domain, canonical_pattern=patterns.canonical_pattern(self.pattern)
        )
        return others.exclude(pk=self.pk).first() if self.pk else others.first()

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        # canonical_pattern follows pattern: when clean() already put an error on pattern (it
        # names the route that clashes), the constraint on it would only say less, again.
        exclude = set(exclude or ())
        if "pattern" in exclude:
            exclude.add("canonical_pattern")
        super().validate_constraints(exclude=exclude)

    def method_rules(self) -> dict[str, str]:
        """{method: auth} in canonical method order."""
        rules = {rule.method: rule.auth for rule in self.methods.all()}
        return {m: rules[m] for m in patterns.METHODS if m in rules}


def _same_paths_message(existing: Route, pattern: str) -> str:
    if existing.pattern == pattern:
        return f"A route with this domain and pattern already exists: route {existing.pk}."
    return (
        f"route {existing.pk} ({existing}) already matches the same paths: placeholders match "
        "any segment whatever their names, so the two would be one route. Change that route "
        "instead."
    )


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
