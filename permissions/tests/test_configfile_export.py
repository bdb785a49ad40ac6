"""export_config: the database as the file apply_config reads, sorted, without any secret."""

from __future__ import annotations

import json
import textwrap
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from clients.tests.factories import ApiKeyFactory, ClientFactory, HmacSecretFactory
from core.actor import Actor
from permissions.tests.factories import PermissionFactory, RateLimitFactory, route_with_methods
from routes.models import Route
from routes.tests.factories import RouteMethodFactory

pytestmark = pytest.mark.django_db

RICH = """
routes:
  - domain: "*"
    pattern: /health
    methods: {GET: public, HEAD: public}
  - domain: "*"
    pattern: "/api/orders/{id}/items"
    service: "on"
    description: "yes: a description that YAML would read as other things\\nover two lines"
    methods: {PUT: hmac, GET: any}
  - domain: "*.example.com"
    pattern: /v1/*
    description: "Ünïcode and a # hash"
    methods: {GET: api_key, OPTIONS: public}
  - domain: "[2001:db8::1]"
    pattern: /
    methods: {}
clients:
  - name: zeta
    id: 00000000-0000-4000-8000-00000000000a
    status: suspended
    description: "null"
    credentials:
      - {kind: hmac}
      - {kind: api_key, label: ci}
      - {kind: api_key}
      - {kind: api_key}
    rate_limits:
      - {limit: 5, window: second, domain: "*.example.com", pattern: /v1/*}
      - {limit: 1000, window: day}
      - {limit: 10, window: minute}
    permissions:
      - {domain: "*.example.com", pattern: /v1/*, methods: [OPTIONS, GET]}
      - {pattern: "/api/orders/{id}/items", methods: [PUT]}
  - name: Alpha
    id: 00000000-0000-4000-8000-00000000000b
"""


def export(*flags: str) -> str:
    out = StringIO()
    call_command("export_config", *flags, stdout=out)
    return out.getvalue()


def apply_file(path) -> None:
    call_command("apply_config", str(path), stdout=StringIO())


def test_export_writes_the_config_shape_sorted_with_client_ids():
    zeta = ClientFactory(name="zeta", description="Partner")
    alpha = ClientFactory(name="alpha")
    later = route_with_methods("POST", pattern="/b", service_name="")
    RouteMethodFactory(route=later, method="GET", auth="any")
    first = route_with_methods("GET", pattern="/a", service_name="svc", domain="api.example.com")
    PermissionFactory(client=zeta, route=later, methods="GET,POST")
    PermissionFactory(client=zeta, route=first, methods="GET")
    RateLimitFactory(client=zeta, route=later, window="second", limit=3)
    RateLimitFactory(client=zeta, window="hour", limit=500)
    ApiKeyFactory(client=zeta, label="ci")

    assert export() == textwrap.dedent(
        f"""\
        routes:
        - domain: '*'
          pattern: /b
          methods: {{GET: any, POST: api_key}}
        - domain: api.example.com
          pattern: /a
          service: svc
          methods: {{GET: api_key}}
        clients:
        - name: alpha
          id: {alpha.pk}
          status: active
        - name: zeta
          id: {zeta.pk}
          status: active
          description: Partner
          credentials:
          - {{kind: api_key, label: ci}}
          rate_limits:
          - {{limit: 500, window: hour}}
          - {{limit: 3, window: second, domain: '*', pattern: /b}}
          permissions:
          - {{domain: '*', pattern: /b, methods: [GET, POST]}}
          - {{domain: api.example.com, pattern: /a, methods: [GET]}}
        """
    )


def test_an_empty_database_exports_empty_lists():
    assert export() == "routes: []\nclients: []\n"
    assert json.loads(export("--format", "json")) == {"routes": [], "clients": []}


def test_only_live_credentials_are_listed():
    acme = ClientFactory(name="acme")
    ApiKeyFactory(client=acme, label="live")
    ApiKeyFactory(client=acme, label="revoked", revoked_at=timezone.now())
    ApiKeyFactory(client=acme, label="expired", expires_at=timezone.now())

    assert json.loads(export("--format", "json"))["clients"][0]["credentials"] == [
        {"kind": "api_key", "label": "live"}
    ]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_never_contains_a_key_secret_digest_prefix_or_sealed_value(fmt):
    acme = ClientFactory(name="acme")
    actor = Actor.system("test")
    issued = [
        client_services.issue_api_key(acme, actor=actor),
        client_services.issue_api_key(acme, actor=actor, plaintext="legacy-key-0042"),
        client_services.issue_hmac_secret(acme, actor=actor),
        client_services.issue_hmac_secret(acme, actor=actor, secret="imported-hmac-secret"),
    ]
    HmacSecretFactory(client=acme, secret="revoked-hmac-secret", revoked_at=timezone.now())

    text = export("--format", fmt)

    forbidden = {"legacy-key-0042", "imported-hmac-secret", "revoked-hmac-secret"}
    for secret in issued:
        credential = secret.credential
        forbidden |= {secret.plaintext, credential.prefix, credential.secret_encrypted}
        forbidden |= {credential.digest or "", (credential.digest or "").partition("$")[2]}
    assert [value for value in forbidden - {""} if value in text] == []
    assert "gk_" not in text


@pytest.mark.parametrize(("fmt", "name"), [("yaml", "config.yaml"), ("json", "config.json")])
def test_export_then_apply_on_an_empty_database_then_export_gives_the_same_file(
    tmp_path, fmt, name
):
    source = tmp_path / "rich.yaml"
    source.write_text(textwrap.dedent(RICH))
    apply_file(source)
    exported = tmp_path / name
    exported.write_text(export("--format", fmt))

    Client.objects.all().delete()
    Route.objects.all().delete()
    apply_file(exported)

    assert export("--format", fmt) == exported.read_text()


def test_output_writes_a_file_in_the_format_its_name_implies(tmp_path):
    route_with_methods("GET", pattern="/x")
    target = tmp_path / "out.json"

    out = export("--output", str(target))

    assert out == f"Wrote {target} (json).\n"
    assert json.loads(target.read_text())["routes"][0]["pattern"] == "/x"
