from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from core.actor import Actor
from routes import services
from routes.models import Route, RouteMethod


class RouteMethodInline(admin.TabularInline):
    model = RouteMethod
    fields = ["method", "auth"]
    extra = 1
    max_num = len(RouteMethod._meta.get_field("method").choices)
    verbose_name = "method rule"
    verbose_name_plural = "Method rules (a method without a rule is denied)"


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    """Routes with their method rules. Every write goes through routes.services, so it is
    validated and audited like a command or a config-file change."""

    list_display = ["domain", "pattern", "service_name", "method_summary"]
    list_display_links = ["domain", "pattern"]
    list_filter = ["domain", "methods__auth", "methods__method"]
    # Also what permissions' autocomplete_fields search.
    search_fields = ["domain", "pattern", "service_name", "description"]
    # Shadowing is on the route page (dashboard/admin/routes.py), both ways.
    fields = [*services.ROUTE_FIELDS, "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [RouteMethodInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Route]:
        return super().get_queryset(request).prefetch_related("methods")

    @admin.display(description="methods")
    def method_summary(self, route: Route) -> str:
        return " ".join(f"{method}:{auth}" for method, auth in route.method_rules().items())

    def save_model(self, request: HttpRequest, obj: Route, form: ModelForm, change: bool) -> None:
        values = {field: getattr(obj, field) for field in services.ROUTE_FIELDS}
        actor = Actor.from_request(request)
        if change:
            services.update_route(obj, actor=actor, **values)
            return
        created = services.create_route(actor=actor, **values)
        # The admin carries on with `obj` (inlines, history, redirect): give it the new row.
        obj.pk = created.pk
        obj.created_at, obj.updated_at = created.created_at, created.updated_at
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        rules = {
            row["method"]: row["auth"]
            for row in formset.cleaned_data
            if row and not row.get("DELETE")
        }
        services.set_route_methods(form.instance, rules, actor=Actor.from_request(request))

    def construct_change_message(
        self, request: HttpRequest, form: ModelForm, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # The inline is applied by set_route_methods, not formset.save(), so the formsets
        # have no new/changed/deleted object lists; the audit row records the methods.
        return super().construct_change_message(request, form, [], add)

    def delete_model(self, request: HttpRequest, obj: Route) -> None:
        services.delete_route(obj, actor=Actor.from_request(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Route]) -> None:
        actor = Actor.from_request(request)
        with transaction.atomic():
            for route in queryset:
                services.delete_route(route, actor=actor)
