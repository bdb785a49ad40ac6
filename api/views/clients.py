"""/api/v1/clients/ and /api/v1/credentials/: who calls, and how they prove it.

A new key or secret is in the answer of the request that issued it (issue, rotate), marked
`Cache-Control: no-store`, and in no other answer: lists and reads show prefixes only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import actor_for
from api.serializers import (
    CredentialOutSerializer,
    IssueCredentialSerializer,
    IssuedCredentialSerializer,
    RotateSerializer,
)
from api.views.base import ObjectViewSet, no_store
from clients import services
from clients.models import Client, Credential
from clients.serializers import ClientSerializer, CredentialSerializer


class ClientFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Client
        fields = ["name", "status"]


class ClientViewSet(mixins.ListModelMixin, ObjectViewSet):
    """Clients. Deleting one deletes its credentials, permissions and rate limits."""

    queryset = Client.objects.order_by("name")
    serializer_class = ClientSerializer
    filterset_class = ClientFilter

    def create(self, request: Request) -> Response:
        value = self.validated(request)
        client = services.create_client(
            name=value["name"],
            status=value["status"],
            description=value["description"],
            client_id=value.get("id"),
            actor=actor_for(request),
        )
        return self.tagged(client, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kw: Any) -> Response:
        value = self.validated(request, partial=partial)
        actor = actor_for(request)
        with self.writing(request) as client:
            if "id" in value and value["id"] != client.pk:
                raise ValidationError({"id": "A client's id cannot change."})
            client = services.update_client(
                client, name=value.get("name"), description=value.get("description"), actor=actor
            )
            if "status" in value:
                client = services.set_client_status(client, value["status"], actor=actor)
        return self.tagged(self.fresh(client))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self.writing(request) as client:
            services.delete_client(client, actor=actor_for(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CredentialFilter(filters.FilterSet):
    class Meta:
        model = Credential
        fields = ["client", "kind"]


class CredentialViewSet(mixins.ListModelMixin, ObjectViewSet):
    """Credentials: issue (generated or imported), rotate with a grace period, revoke."""

    queryset = Credential.objects.select_related("client").order_by("-created_at", "-id")
    serializer_class = CredentialOutSerializer
    filterset_class = CredentialFilter
    required_perms = {
        "create": ["clients.add_credential"],
        "rotate": ["clients.add_credential", "clients.change_credential"],
        "revoke": ["clients.change_credential"],
    }

    def _issued(self, issued: services.IssuedSecret) -> Response:
        data = IssuedCredentialSerializer(issued.credential).data
        data.update(
            secret=issued.plaintext,
            warnings=list(issued.warnings),
            retiring=CredentialOutSerializer(issued.retiring, many=True).data,
        )
        return no_store(Response(data, status=status.HTTP_201_CREATED))

    @extend_schema(request=IssueCredentialSerializer, responses={201: IssuedCredentialSerializer})
    def create(self, request: Request) -> Response:
        value = self.validated(request, IssueCredentialSerializer)
        item = services.NewCredential(
            value["client"],
            value["kind"],
            value["label"],
            value["expires_at"],
            CredentialSerializer.value_of(value),
        )
        issued = services.issue_credentials([item], actor=actor_for(request)).one()
        return self._issued(issued)

    @extend_schema(request=RotateSerializer, responses={201: IssuedCredentialSerializer})
    @action(detail=False, methods=["post"])
    def rotate(self, request: Request) -> Response:
        """Issue a new credential of the kind; every other live one of that kind stops working
        after the grace period."""
        value = self.validated(request, RotateSerializer)
        issued = services.rotate_credentials(
            value["client"],
            kind=value["kind"],
            grace=timedelta(seconds=value["grace_seconds"]),
            actor=actor_for(request),
        )
        return self._issued(issued)

    @extend_schema(request=None, responses={200: CredentialOutSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Stop the credential working now (409 when it is already revoked)."""
        with self.writing(request) as credential:
            credential = services.revoke_credential(credential, actor=actor_for(request))
        return self.tagged(credential)
