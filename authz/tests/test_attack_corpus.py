"""The attack corpus (attack_corpus.yaml) through /authz, with the real database.

Each case names the decision it must get. A case that states the right answer but does not get
it yet carries `xfail_reason` and runs as a strict xfail, so a known bypass stays visible and
its fix is noticed. The file's header documents the case fields.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from byteforge_hmac import HMACClient

from authz.signatures import sign
from authz.tests.decider import DeciderResponse
from clients import services as clients
from core.actor import Actor
from permissions import services as permissions
from routes import services as routes

ACTOR = Actor.system("attack-corpus")
CORPUS = yaml.safe_load(Path(__file__).with_name("attack_corpus.yaml").read_text("utf-8"))
DEFAULTS = CORPUS.pop("defaults")
CASES = [{**case, "category": category} for category, cases in CORPUS.items() for case in cases]
FIELDS = {
    *("id", "category", "method", "uri", "host", "headers", "peer", "body", "hmac", "replay"),
    *("expect", "client", "route", "source", "note", "xfail_reason"),
}
HMAC_FIELDS = {
    *("client_id", "secret", "sign_method", "sign_target", "sign_body"),
    *("skew", "nonce", "template", "header"),
}
TEMPLATE = (
    'HMAC client_id="{client_id}",timestamp="{timestamp}",nonce="{nonce}",signature="{signature}"'
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_DETAIL = re.compile(r"\bdetail=(\S+)")

Ask = Callable[..., DeciderResponse]


@dataclass
class Corpus:
    values: dict[str, str]  # placeholder -> text
    secrets: dict[str, str]  # signer name -> HMAC secret
    routes: dict[str, int]  # fixture name -> route id

    def fill(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.values.get(m.group(1), m.group(0)), text)

    def hmac_header(self, spec: dict[str, Any], method: str, uri: str, body: str) -> str:
        client_id = self.fill(spec.get("client_id", "{acme_id}"))
        secret = self.secrets[spec.get("secret", "acme")]
        method = spec.get("sign_method", method)
        target = self.fill(spec.get("sign_target", uri))
        body = spec.get("sign_body", body)
        if not spec.keys() & {"skew", "nonce", "template"}:
            return HMACClient(client_id, secret)._create_auth_header(method, target, body)
        timestamp = str(int(time.time()) + spec.get("skew", 0))
        # Unique per run: with Redis, nonces outlive the test's transaction.
        nonce = f"{spec.get('nonce', 'n')}-{uuid.uuid4().hex[:12]}"
        signature = sign(secret.encode(), method, target, timestamp, nonce, body.encode())
        return spec.get("template", TEMPLATE).format(
            client_id=client_id,
            timestamp=timestamp,
            nonce=nonce,
            signature=signature,
            signature_upper=signature.upper(),
        )


@pytest.fixture
def corpus(world) -> Corpus:
    """The `world` plus host-specific routes, two more HMAC clients and a revoked key."""

    def route(domain: str, pattern: str, methods: dict[str, str]) -> Any:
        return routes.create_route(domain=domain, pattern=pattern, methods=methods, actor=ACTOR)

    extra = {
        "secure": route("secure.example.com", "/api/public/*", {"GET": "api_key"}),
        "partner": route("partner.example.com", "/api/admin/*", {"GET": "public"}),
        "test_wild": route("*.test", "/api/reports/*", {"GET": "public"}),
        "corp_wild": route("*.corp.test", "/api/reports/*", {"GET": "api_key"}),
        "pay": route("pay.corp.test", "/api/reports/*", {"GET": "hmac"}),
        "ipv4": route("10.0.0.1", "/api/public/*", {"GET": "api_key"}),
        "ipv6": route("[2001:db8::1]", "/api/public/*", {"GET": "api_key"}),
        "idn": route("xn--bcher-kva.example", "/api/public/*", {"GET": "api_key"}),
        "profile": route("*", "/api/users/{id}/profile", {"GET": "public"}),
        "me": route("*", "/api/users/me/profile", {"GET": "api_key"}),
        # Protected exact routes under the public wildcard, spelled with sub-delims/escapes.
        "colon": route("*", "/api/public/export:all", {"GET": "api_key"}),
        "plus": route("*", "/api/public/tag+private", {"GET": "api_key"}),
    }
    for name in ("secure", "corp_wild", "pay", "me"):
        permissions.grant(world.acme, extra[name], ["GET"], actor=ACTOR)
    secrets = {"acme": world.acme_secret, "wrong": "not-the-secret"}
    others = {
        "beta": clients.create_client(name="beta", actor=ACTOR),
        "frozen": clients.create_client(name="frozen", status="suspended", actor=ACTOR),
    }
    for name, client in others.items():
        secrets[name] = clients.issue_hmac_secret(client, actor=ACTOR).plaintext
        permissions.grant(client, world.data, ["POST"], actor=ACTOR)
    dropped = clients.issue_api_key(world.acme, actor=ACTOR)
    clients.revoke_credential(dropped.credential, actor=ACTOR)
    key, acme_id = world.acme_key, str(world.acme.id)
    values = {
        "acme_key": key,
        "acme_key_pct": "".join(f"%{byte:02X}" for byte in key.encode()),
        "acme_key_upper": key.upper(),
        "acme_id": acme_id,
        "acme_id_upper": acme_id.upper(),
        "beta_id": str(others["beta"].id),
        "frozen_id": str(others["frozen"].id),
        "stranger_id": str(clients.get_client("stranger").id),
        "stranger_key": world.stranger_key,
        "expired_key": world.expired_key,
        "suspended_key": world.suspended_key,
        "revoked_key": world.revoked_key,
        "dropped_key": dropped.plaintext,
        "long_host": ".".join(["a" * 63] * 4),
        "long_label": "a" * 64 + ".example.com",
    }
    route_ids = {name: r.id for name, r in extra.items()}
    route_ids.update(public=world.public.id, data=world.data.id, admin=world.admin.id)
    return Corpus(values, secrets, route_ids)


def _wire(text: str | None) -> str | None:
    """A header value as a WSGI server hands it over: the UTF-8 bytes read as latin-1."""
    return None if text is None else text.encode("utf-8").decode("latin-1")


def run(case: dict[str, Any], corpus: Corpus, ask: Ask) -> DeciderResponse:
    """Ask /authz the case's question (twice for a replay, the first answer must allow)."""
    case = {**DEFAULTS, **case}
    fill = corpus.fill
    uri = None if case.get("uri") is None else fill(case["uri"])
    host = None if case["host"] is None else fill(case["host"])
    headers = {name: fill(value) for name, value in (case.get("headers") or {}).items()}
    body = case.get("body")
    if "hmac" in case:
        spec = case["hmac"]
        signed = corpus.hmac_header(spec, case["method"], uri, body or "")
        headers[spec.get("header", "Authorization")] = signed
    environ = {"HTTP_" + name.upper().replace("-", "_"): _wire(v) for name, v in headers.items()}
    if "peer" in case:
        environ["REMOTE_ADDR"] = case["peer"]

    def send() -> DeciderResponse:
        extra = dict(environ)
        data = b""
        if body is not None:
            data = body.encode()
            extra.update(CONTENT_LENGTH=str(len(data)), CONTENT_TYPE="application/json")
        return ask(_wire(case["method"]), _wire(uri), host=_wire(host), body=data, **extra)

    if case.get("replay"):
        first = send()
        assert first.status_code == 200, f"the first request was not allowed: {first.headers}"
    return send()


def _logged_detail(caplog: pytest.LogCaptureFixture) -> str | None:
    lines = [r.getMessage() for r in caplog.records if r.name == "gatekeeper.decisions"]
    denials = [line for line in lines if line.startswith("deny ")]
    match = _DETAIL.search(denials[-1]) if denials else None
    return match.group(1) if match else None


def _params() -> list[Any]:
    params = []
    for case in CASES:
        reason = case.get("xfail_reason")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=f"{case['category']}/{case['id']}", marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_attack_gets_its_decision(case, corpus, ask, caplog):
    caplog.set_level(logging.INFO, logger="gatekeeper.decisions")
    status, reason, *detail = case["expect"].split()
    response = run(case, corpus, ask)
    assert (response.status_code, response["X-Auth-Reason"]) == (int(status), reason)
    if detail:
        assert _logged_detail(caplog) == detail[0]
    authenticated = reason == "authenticated"
    assert response["X-Auth-Client-Name"] == (case.get("client", "acme") if authenticated else "")
    assert bool(response["X-Auth-Client-ID"]) == authenticated
    assert response.has_header("WWW-Authenticate") == (status == "401")
    if "route" in case:
        assert response["X-Auth-Route-ID"] == str(corpus.routes[case["route"]])


def test_no_case_expected_to_be_denied_is_allowed(corpus, ask):
    """The summary property: zero bypasses outside the known (xfail) ones."""
    denied = [c for c in CASES if not c["expect"].startswith("200 ") and "xfail_reason" not in c]
    assert len(denied) > 150
    bypasses = [
        f"{c['category']}/{c['id']}" for c in denied if run(c, corpus, ask).status_code == 200
    ]
    assert bypasses == []


def test_corpus_cases_are_well_formed():
    ids = [(case["category"], case["id"]) for case in CASES]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert len(CASES) >= 170
    for case in CASES:
        assert set(case) <= FIELDS, case["id"]
        assert set(case.get("hmac") or {}) <= HMAC_FIELDS, case["id"]
        status, _reason, *rest = case["expect"].split()
        assert status in ("200", "401", "403"), case["id"]
        assert len(rest) <= 1, case["id"]
        assert "route" not in case or status == "200", case["id"]
