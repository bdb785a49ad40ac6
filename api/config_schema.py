"""The JSON Schema of the config file (`deploy/schema/gatekeeper-config.schema.json`), so that
editors validate and complete files as they are written.

It is made from the same serializers `apply_config` and the API read (`ConfigSerializer` and
its parts), through the OpenAPI schema drf-spectacular builds for `POST /api/v1/config`: the
request component of the document, with every component it refers to, as JSON Schema
(2020-12). `manage.py config_schema` writes it; a test checks that the file is current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

PATH = Path("deploy") / "schema" / "gatekeeper-config.schema.json"
ROOT = "ConfigRequest"
_REF = "#/components/schemas/"


def config_schema() -> dict[str, Any]:
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    wanted, todo = {}, [ROOT]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted[name] = _json_schema(components[name])
        todo.extend(_refs(components[name]))
    root = wanted.pop(ROOT)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gatekeeper.invalid/schema/gatekeeper-config.schema.json",
        "title": "Gatekeeper config file (apply_config, POST /api/v1/config)",
        **root,
        "$defs": dict(sorted(wanted.items())),
    }


def render() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=False) + "\n"


def default_path() -> Path:
    return Path(settings.BASE_DIR) / PATH


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].removeprefix(_REF)] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's dialect as JSON Schema: `$defs` references, `nullable` as a type, and
    objects closed to unknown fields (the serializers refuse them)."""
    if isinstance(node, list):
        return [_json_schema(value) for value in node]
    if not isinstance(node, dict):
        return node
    result = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if "$ref" in result:
        result["$ref"] = "#/$defs/" + result["$ref"].removeprefix(_REF)
    if node.get("nullable"):
        if "type" in result:
            result["type"] = [result["type"], "null"]
        else:
            result = {"anyOf": [result, {"type": "null"}]}
    if result.get("type") == "object" and "properties" in result:
        result.setdefault("additionalProperties", False)
    return result
