"""/api/v1/routes/: routes with their method rules."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import actor_for
from api.views.base import ObjectViewSet
from routes import services
from routes.models import Route
from routes.serializers import RouteSerializer


class RouteFilter(filters.FilterSet):
    domain = filters.CharFilter()
    service = filters.CharFilter(field_name="service_name")

    class Meta:
        model = Route
        fields = ["domain", "service"]


class RouteViewSet(mixins.ListModelMixin, ObjectViewSet):
    """Routes: which host and path a rule applies to, and how each method authenticates.
    A route's `methods` are replaced as a whole set on PUT and on a PATCH that names them."""

    queryset = Route.objects.prefetch_related("methods").order_by("id")
    serializer_class = RouteSerializer
    filterset_class = RouteFilter

    def create(self, request: Request) -> Response:
        value = self.validated(request)
        route = services.create_route(
            domain=value["domain"],
            pattern=value["pattern"],
            service_name=value["service_name"],
            description=value["description"],
            methods=value["methods"],
            actor=actor_for(request),
        )
        return self.tagged(self.fresh(route), status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kw: Any) -> Response:
        value = self.validated(request, partial=partial)
        actor = actor_for(request)
        with self.writing(request) as route:
            methods = value.pop("methods", None)
            route = services.update_route(route, actor=actor, **value)
            if methods is not None:
                services.set_route_methods(route, methods, actor=actor)
        return self.tagged(self.fresh(route))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self.writing(request) as route:
            services.delete_route(route, actor=actor_for(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
