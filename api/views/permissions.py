"""/api/v1/permissions/ and /api/v1/rate-limits/.

POST /permissions/ grants: it adds the methods to what the client holds on the route. PUT and
PATCH set the methods exactly; POST /permissions/{id}/revoke/ takes methods away (all of them
by default), as DELETE does.
"""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import actor_for
from api.serializers import (
    LimitSerializer,
    MethodsSerializer,
    PermissionSerializer,
    RateLimitSerializer,
    RevokeSerializer,
    usage_context,
)
from api.views.base import ObjectViewSet
from permissions import services
from permissions.models import Permission, RateLimit


class PermissionViewSet(mixins.ListModelMixin, ObjectViewSet):
    queryset = Permission.objects.select_related("client", "route").order_by("id")
    serializer_class = PermissionSerializer
    filterset_fields = ["client", "route"]
    required_perms = {"revoke": ["permissions.change_permission"]}

    def create(self, request: Request) -> Response:
        """Grant: the client may call the route with these methods too."""
        value = self.validated(request)
        permission = services.grant(
            value["client"], value["route"], value["methods"], actor=actor_for(request)
        )
        return self.tagged(self.fresh(permission), status.HTTP_201_CREATED)

    @extend_schema(request=MethodsSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Set the methods the client holds on the route, exactly."""
        value = self.validated(request, MethodsSerializer)
        with self.writing(request) as permission:
            permission = services.grant(
                permission.client,
                permission.route,
                value["methods"],
                actor=actor_for(request),
                exactly=True,
            )
        return self.tagged(self.fresh(permission))

    @extend_schema(request=MethodsSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self.writing(request) as permission:
            services.revoke(permission.client, permission.route, actor=actor_for(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RevokeSerializer, responses={200: PermissionSerializer, 204: None})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Take methods away (all by default); 204 when none is left (the permission is gone)."""
        value = self.validated(request, RevokeSerializer)
        with self.writing(request) as permission:
            left = services.revoke(
                permission.client,
                permission.route,
                methods=value.get("methods"),
                actor=actor_for(request),
            )
        if left is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self.tagged(self.fresh(left))


class RateLimitFilter(filters.FilterSet):
    class Meta:
        model = RateLimit
        fields = ["client", "route", "window"]


class RateLimitViewSet(mixins.ListModelMixin, ObjectViewSet):
    """Rate limits, each with `used` and `remaining` in its current window (null when the
    counters cannot be read)."""

    queryset = RateLimit.objects.select_related("client", "route").order_by("id")
    serializer_class = RateLimitSerializer
    filterset_class = RateLimitFilter

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        instance = args[0] if args else kwargs.get("instance")
        if instance is not None:
            rows = list(instance) if kwargs.get("many") else [instance]
            kwargs["context"] = {**self.get_serializer_context(), **usage_context(rows)}
        return super().get_serializer(*args, **kwargs)

    def create(self, request: Request) -> Response:
        """Set the client's limit for the window (on one route, or on all with no route)."""
        value = self.validated(request)
        rate_limit = services.set_rate_limit(
            value["client"],
            limit=value["limit"],
            window=value["window"],
            route=value["route"],
            actor=actor_for(request),
        )
        return self.tagged(self.fresh(rate_limit), status.HTTP_201_CREATED)

    @extend_schema(request=LimitSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        value = self.validated(request, LimitSerializer)
        with self.writing(request) as rate_limit:
            rate_limit = services.set_rate_limit(
                rate_limit.client,
                limit=value["limit"],
                window=rate_limit.window,
                route=rate_limit.route,
                actor=actor_for(request),
            )
        return self.tagged(self.fresh(rate_limit))

    @extend_schema(request=LimitSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self.writing(request) as rate_limit:
            services.remove_rate_limit(rate_limit, actor=actor_for(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
