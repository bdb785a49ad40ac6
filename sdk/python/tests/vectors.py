"""The shared test vectors (sdk/testdata/vectors.json), made by Gatekeeper's own verifier."""

from __future__ import annotations

import base64
import json
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "testdata" / "vectors.json"


def load() -> list[dict]:
    return json.loads(PATH.read_text(encoding="utf-8"))["vectors"]


def body_of(vector: dict) -> bytes:
    return base64.b64decode(vector["body_b64"])
