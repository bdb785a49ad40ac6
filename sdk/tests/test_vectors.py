"""The shared client-library vectors are what Gatekeeper's own verifier makes and accepts, so
sdk/testdata/vectors.json cannot drift from authz/signatures.py."""

from __future__ import annotations

import base64
import json

import pytest

from authz.credentials import extract
from authz.normalize import Malformed, normalize_target
from authz.signatures import find_signer
from sdk import vectors

DOCUMENT = json.loads(vectors.PATH.read_text(encoding="utf-8"))


def test_the_vector_file_is_what_gatekeepers_verifier_makes_today():
    assert vectors.PATH.read_text(encoding="utf-8") == vectors.render(), (
        "sdk/testdata/vectors.json is stale: run python -m sdk.vectors"
    )


def test_the_check_command_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "vectors.json"
    stale.write_text(vectors.render().replace('"GET"', '"PUT"', 1), encoding="utf-8")
    monkeypatch.setattr(vectors, "PATH", stale)

    assert vectors.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err


@pytest.mark.parametrize("vector", DOCUMENT["vectors"], ids=lambda vector: vector["name"])
def test_gatekeeper_accepts_each_vector_and_nothing_changed_in_it(vector):
    body = base64.b64decode(vector["body_b64"])
    normalize_target(vector["target"])
    fields = extract(vector["authorization"], None, None, ()).hmac
    secret = vector["secret"].encode("utf-8")
    assert fields is not None
    assert fields.signature == vector["signature"]
    assert find_signer([secret], fields, vector["method"], vector["target"], body) == 0
    changed_body = body + b" "
    assert find_signer([secret], fields, vector["method"], vector["target"], changed_body) is None


def test_a_raw_utf8_target_is_refused_so_the_vectors_percent_encode_it():
    with pytest.raises(Malformed):
        normalize_target("/api/data/café")
    normalize_target("/api/data/caf%C3%A9")
