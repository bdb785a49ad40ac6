"""Carrying out a config file's plan through the services, all or nothing (design §8).

Every change goes through the service that owns it, so each writes its own audit row and the
config version moves on commit. Planning and applying run in one transaction: when any change
fails, nothing the file asked for is left behind, and no generated secret is handed out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.actions import CONFIG_APPLIED
from audit.services import record
from clients import services as clients
from clients.models import Client, Credential
from core.actor import Actor
from core.commands import validation_message
from core.errors import GatekeeperError
from permissions import services as permissions
from permissions.configfile.plan import Change, Noun, Op, Plan, build_plan
from permissions.configfile.spec import (
    ClientSpec,
    Config,
    CredentialSpec,
    Issue,
    PermissionSpec,
    RateLimitSpec,
    RouteKey,
    RouteSpec,
)
from routes import services as routes
from routes.models import Route


class ApplyError(GatekeeperError):
    """A change failed while being applied; the transaction rolled everything back."""


@dataclass(frozen=True)
class GeneratedSecret:
    """A credential the file asked to generate, with its plaintext to show once."""

    client: str
    client_id: uuid.UUID
    kind: str
    label: str
    plaintext: str = field(repr=False)


@dataclass(frozen=True)
class Applied:
    plan: Plan
    generated: tuple[GeneratedSecret, ...]
    # `<location>: <warning>` for the operator, e.g. an imported key short enough to guess.
    warnings: tuple[str, ...] = ()


@transaction.atomic
def apply_config(config: Config, issues: list[Issue], *, prune: bool, actor: Actor) -> Applied:
    """Make the database match `config` (see plan.py for what matches what).

    Raises ConfigError (nothing was written) when the file has problems, ApplyError when a
    service refused a change (everything was rolled back). Two applies at once: the unique
    constraints reject whichever loses, and it rolls back whole.
    """
    plan = build_plan(config, issues, prune=prune)
    applier = _Applier(plan, actor)
    for change in plan.changes:
        try:
            applier.run(change)
        except ValidationError as exc:
            raise ApplyError(_failure(change, validation_message(exc))) from exc
        except GatekeeperError as exc:
            raise ApplyError(_failure(change, str(exc))) from exc
        except IntegrityError as exc:
            # The first line names the constraint; PostgreSQL's DETAIL line would quote values.
            raise ApplyError(_failure(change, str(exc).splitlines()[0])) from exc
    if plan.changes:
        # One row for the whole apply, beside each change's own (webhooks: config.applied).
        counts = {f"{op.name.lower()}d": plan.count(op) for op in Op}
        record(actor, CONFIG_APPLIED, detail={**counts, "unchanged": plan.unchanged})
    return Applied(plan, tuple(applier.generated), tuple(applier.warnings))


def _failure(change: Change, message: str) -> str:
    where = change.location or str(change)
    return f"{where}: {message.rstrip('.')}. Nothing was changed."


class _Applier:
    def __init__(self, plan: Plan, actor: Actor) -> None:
        self.actor = actor
        self.routes: dict[RouteKey, Route] = dict(plan.routes)
        self.clients: dict[str, Client] = dict(plan.clients)
        self.generated: list[GeneratedSecret] = []
        self.warnings: list[str] = []

    def run(self, change: Change) -> None:
        if change.op is Op.DELETE:
            self.delete(change)
        elif change.noun is Noun.ROUTE:
            self.write_route(change)
        elif change.noun is Noun.CLIENT:
            self.write_client(change)
        elif change.noun is Noun.CREDENTIAL:
            self.issue(change)
        elif change.noun is Noun.PERMISSION:
            spec = change.spec
            assert isinstance(spec, PermissionSpec)
            client = self.clients[change.owner]
            # The file is declarative: a permission holds exactly the methods it lists.
            permissions.grant(
                client, self.routes[spec.route], spec.methods, actor=self.actor, exactly=True
            )
        else:
            spec = change.spec
            assert isinstance(spec, RateLimitSpec)
            permissions.set_rate_limit(
                self.clients[change.owner],
                limit=spec.limit,
                window=spec.window,
                route=self.routes[spec.route] if spec.route else None,
                actor=self.actor,
            )

    def delete(self, change: Change) -> None:
        target = change.target
        if change.noun is Noun.ROUTE:
            routes.delete_route(target, actor=self.actor)
        elif change.noun is Noun.CLIENT:
            clients.delete_client(target, actor=self.actor)
        elif change.noun is Noun.PERMISSION:
            permissions.revoke(target.client, target.route, actor=self.actor)
        elif change.noun is Noun.CREDENTIAL:
            # Revoked, not deleted: the row stays so the audit trail can still name it.
            clients.revoke_credential(target, actor=self.actor)
        else:
            permissions.remove_rate_limit(target, actor=self.actor)

    def write_route(self, change: Change) -> None:
        spec = change.spec
        assert isinstance(spec, RouteSpec)
        if change.op is Op.CREATE:
            self.routes[spec.key] = routes.create_route(
                domain=spec.domain,
                pattern=spec.pattern,
                service_name=spec.service,
                description=spec.description,
                methods=spec.method_map,
                actor=self.actor,
            )
            return
        route = change.target
        if "service" in change.fields or "description" in change.fields:
            route = routes.update_route(
                route,
                service_name=spec.service,
                description=spec.description,
                actor=self.actor,
            )
        if "methods" in change.fields:
            routes.set_route_methods(route, spec.method_map, actor=self.actor)
        self.routes[spec.key] = route

    def write_client(self, change: Change) -> None:
        spec = change.spec
        assert isinstance(spec, ClientSpec)
        if change.op is Op.CREATE:
            self.clients[spec.location] = clients.create_client(
                name=spec.name,
                status=spec.status,
                description=spec.description,
                client_id=spec.id,
                actor=self.actor,
            )
            return
        client = change.target
        if "name" in change.fields or "description" in change.fields:
            client = clients.update_client(
                client, name=spec.name, description=spec.description, actor=self.actor
            )
        if "status" in change.fields:
            client = clients.set_client_status(client, spec.status, actor=self.actor)
        self.clients[spec.location] = client

    def issue(self, change: Change) -> None:
        spec = change.spec
        assert isinstance(spec, CredentialSpec)
        client = self.clients[change.owner]
        if spec.kind == Credential.Kind.API_KEY:
            issued = clients.issue_api_key(
                client, label=spec.label, plaintext=spec.value, actor=self.actor
            )
        else:
            issued = clients.issue_hmac_secret(
                client, label=spec.label, secret=spec.value, actor=self.actor
            )
        self.warnings.extend(f"{spec.location}: {warning}" for warning in issued.warnings)
        if spec.value is None:
            self.generated.append(
                GeneratedSecret(client.name, client.pk, spec.kind, spec.label, issued.plaintext)
            )
