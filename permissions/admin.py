"""Permissions and rate limits in the admin. Every write goes through permissions.services."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from core.actor import Actor
from permissions import services
from permissions.forms import PermissionForm, RateLimitForm
from permissions.models import Permission, RateLimit
from routes import patterns


class MethodFilter(admin.SimpleListFilter):
    title = "method"
    parameter_name = "method"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(m, m) for m in patterns.METHODS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in patterns.METHODS:
            return queryset
        # A whole item of the comma list, not a substring of another method's name.
        return queryset.filter(methods__regex=rf"(^|,){self.value()}(,|$)")


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    form = PermissionForm
    list_display = ["client", "route", "methods", "updated_at"]
    list_filter = [MethodFilter, "client__status"]
    search_fields = ["client__name", "route__domain", "route__pattern", "route__service_name"]
    autocomplete_fields = ["client", "route"]
    list_select_related = ["client", "route"]

    def get_readonly_fields(self, request: HttpRequest, obj: Permission | None = None) -> list[str]:
        # Another client or route is another permission: add that one instead.
        return ["client", "route"] if obj else []

    def save_model(
        self, request: HttpRequest, obj: Permission, form: ModelForm, change: bool
    ) -> None:
        # The checkboxes show the whole set: unticking a method takes it away.
        granted = services.grant(
            obj.client, obj.route, obj.method_list, actor=Actor.from_request(request), exactly=True
        )
        obj.pk = granted.pk

    def delete_model(self, request: HttpRequest, obj: Permission) -> None:
        services.revoke(obj.client, obj.route, actor=Actor.from_request(request))

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Permission]) -> None:
        actor = Actor.from_request(request)
        for permission in queryset.select_related("client", "route"):
            services.revoke(permission.client, permission.route, actor=actor)


@admin.register(RateLimit)
class RateLimitAdmin(admin.ModelAdmin):
    form = RateLimitForm
    list_display = ["client", "scope", "limit", "window", "updated_at"]
    list_filter = ["window", "client__status"]
    search_fields = ["client__name", "route__domain", "route__pattern", "route__service_name"]
    autocomplete_fields = ["client", "route"]
    list_select_related = ["client", "route"]

    @admin.display(description="route", ordering="route")
    def scope(self, obj: RateLimit) -> str:
        return str(obj.route) if obj.route_id else "all routes"

    def get_readonly_fields(self, request: HttpRequest, obj: RateLimit | None = None) -> list[str]:
        # A limit is keyed by (client, route, window): changing one of those is another limit.
        return ["client", "route", "window"] if obj else []

    def save_model(
        self, request: HttpRequest, obj: RateLimit, form: ModelForm, change: bool
    ) -> None:
        saved = services.set_rate_limit(
            obj.client,
            limit=obj.limit,
            window=obj.window,
            route=obj.route,
            actor=Actor.from_request(request),
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: RateLimit) -> None:
        services.remove_rate_limit(obj, actor=Actor.from_request(request))

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RateLimit]) -> None:
        actor = Actor.from_request(request)
        for rate_limit in queryset.select_related("client", "route"):
            services.remove_rate_limit(rate_limit, actor=actor)
