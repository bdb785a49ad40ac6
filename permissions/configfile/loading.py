"""Config file text -> plain data: YAML or JSON, with syntax errors located by line and column.

Both parsers refuse a key repeated in one mapping; by default they keep the last one silently,
which in a declarative file hides an edit.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

import yaml

from permissions.configfile.spec import ConfigError, Issue

FORMATS = ("yaml", "json")
_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def format_of(path: str) -> str | None:
    """The format a file name implies (`.yaml`, `.yml`, `.json`), or None."""
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    return _SUFFIXES.get(suffix)


def load(text: str, fmt: str) -> Any:
    """Parse YAML or JSON; a syntax error or a repeated key raises ConfigError with its place."""
    if fmt == "json":
        try:
            return json.loads(text, object_pairs_hook=_unique_json_object)
        except json.JSONDecodeError as exc:
            raise ConfigError([Issue(f"line {exc.lineno}, column {exc.colno}", exc.msg)]) from None
        except _DuplicateKey as exc:
            raise ConfigError([Issue("", str(exc))]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (_Loader is a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        message = exc.problem or exc.context or "not valid YAML"
        if exc.context == "while scanning an alias":
            message += " (a bare * starts a YAML alias: quote it, as in domain: '*')"
        raise ConfigError([Issue(where, message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Issue("", f"not valid YAML: {exc}")]) from None


class _DuplicateKey(ValueError):
    pass


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


class _Loader(yaml.SafeLoader):
    """A SafeLoader that refuses a key repeated in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Hashable] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)
