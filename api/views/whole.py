"""/api/v1/explain and /api/v1/config: the engine's explanation of a request, and the whole
configuration as one document (export, and apply decK-style)."""

from __future__ import annotations

import time

from django.core.exceptions import PermissionDenied
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import actor_for
from api.permissions import read_only_token
from api.serializers import (
    ConfigApplySerializer,
    ConfigOptionsSerializer,
    ConfigResultSerializer,
    ExplainRequestSerializer,
    ExplanationSerializer,
)
from api.views.base import no_store
from authz.explain import HeaderError, described, explain_for
from authz.runtime import get_runtime
from core.serializers import REQUIRED
from permissions.configfile.apply import Applied, apply_config
from permissions.configfile.export import export_data
from permissions.configfile.loading import few_collections
from permissions.configfile.plan import Op
from permissions.configfile.schema import ConfigSerializer, validate

_MODELS = ("routes.route", "clients.client", "permissions.permission", "permissions.ratelimit")
VIEW_ALL = [f"{m.split('.')[0]}.view_{m.split('.')[1]}" for m in _MODELS]
CHANGE_ALL = [
    f"{app}.{verb}_{model}"
    for app, model in (m.split(".") for m in (*_MODELS, "clients.credential"))
    for verb in ("add", "change", "delete")
]


class _DryRunRollback(Exception):
    """Raised to undo a dry run's writes."""


class ExplainView(APIView):
    """Why a described request gets its answer: every step of the decision, as
    `explain_request` and the admin's access tester show it. Nothing is counted or kept; a
    key given in `headers` is used and never shown back."""

    reads_only = True
    required_perms = {"POST": ["routes.view_route", "clients.view_client"]}

    @extend_schema(request=ExplainRequestSerializer, responses={200: ExplanationSerializer})
    def post(self, request: Request) -> Response:
        serializer = ExplainRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        value = serializer.validated_data
        try:
            facts = described(
                value["method"],
                value["host"],
                value["uri"],
                value["headers"],
                value["body"].encode(),
            )
        except HeaderError as exc:
            raise ValidationError({"headers": [str(exc)]}) from None
        runtime = get_runtime()
        client = str(value["client"]) if "client" in value else None
        snap = runtime.holder.fresh()
        result = explain_for(facts, snap, time.time(), client_id=client, config=runtime.config)
        data = ExplanationSerializer(result).data
        data.update(status=result.status, allowed=result.allowed)
        return no_store(Response(data))


class ConfigView(APIView):
    """The whole configuration, in the config file's shape (apply_config, export_config)."""

    reads_only = True  # a dry run writes nothing; `post` checks the rest
    required_perms = {"GET": VIEW_ALL, "POST": VIEW_ALL}

    @extend_schema(responses={200: ConfigSerializer})
    def get(self, request: Request) -> Response:
        """Export: every route, client, permission and rate limit; no secret."""
        return Response(export_data())

    @extend_schema(request=ConfigApplySerializer, responses={200: ConfigResultSerializer})
    def post(self, request: Request) -> Response:
        """Make the database match the document, all or nothing, as `apply_config` does:
        every problem comes back at its location (`clients[3].permissions[0].methods`).
        `dry_run` shows the changes and makes none; `prune` deletes what it does not name.
        Generated secrets are in this answer only."""
        data = request.data if isinstance(request.data, dict) else {}
        if "config" not in data:
            raise ValidationError({"config": [REQUIRED]})
        options = ConfigOptionsSerializer(data={k: v for k, v in data.items() if k != "config"})
        options.is_valid(raise_exception=True)
        dry_run, prune = options.validated_data["dry_run"], options.validated_data["prune"]
        if not dry_run and (read_only_token(request) or not request.user.has_perms(CHANGE_ALL)):
            raise PermissionDenied
        with few_collections():
            config, issues = validate(data["config"])
        try:
            with few_collections(), transaction.atomic():
                applied = apply_config(config, issues, prune=prune, actor=actor_for(request))
                if dry_run:
                    raise _DryRunRollback
        except _DryRunRollback:
            pass
        return no_store(Response(_result(applied, dry_run)))


def _result(applied: Applied, dry_run: bool) -> dict[str, object]:
    plan = applied.plan
    return {
        "dry_run": dry_run,
        "changes": [
            {
                "op": str(change.op),
                "noun": str(change.noun),
                "subject": change.subject,
                "detail": change.detail,
                "text": str(change),
            }
            for change in plan.changes
        ],
        "created": plan.count(Op.CREATE),
        "updated": plan.count(Op.UPDATE),
        "deleted": plan.count(Op.DELETE),
        "unchanged": plan.unchanged,
        "left_alone": plan.left_alone,
        "generated": []
        if dry_run
        else [
            {
                "client": s.client,
                "client_id": str(s.client_id),
                "kind": s.kind,
                "label": s.label,
                "secret": s.plaintext,
            }
            for s in applied.generated
        ],
        "warnings": list(applied.warnings),
    }
