"""The config file's JSON Schema: generated from the serializers, current, and it accepts the
files apply_config accepts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from django.conf import settings

from api.config_schema import default_path, render


def test_the_checked_in_schema_is_current():
    assert default_path().read_text() == render(), (
        "deploy/schema/gatekeeper-config.schema.json is out of date: "
        "run `make config-schema` and commit it"
    )


def test_the_demo_file_and_an_export_are_valid_and_a_typo_is_not():
    schema = json.loads(default_path().read_text())
    demo = yaml.safe_load((Path(settings.BASE_DIR) / "deploy" / "demo.yaml").read_text())
    jsonschema.validate(demo, schema)
    jsonschema.validate({"routes": [], "clients": []}, schema)
    validator = jsonschema.Draft202012Validator(schema)
    typo = {"routes": [{"pattern": "/x", "servce": "x", "methods": {"GET": "apikey"}}]}
    assert len(list(validator.iter_errors(typo))) >= 1
    assert not validator.is_valid({"clients": [{"name": "a", "status": "paused"}]})
