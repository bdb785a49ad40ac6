"""Config file text -> plain data: YAML or JSON, with syntax errors located by line and column.

Both parsers refuse a key repeated in one mapping; by default they keep the last one silently,
which in a declarative file hides an edit. YAML anchors and aliases are refused too: a few
hundred bytes of nested aliases expand to gigabytes (the "billion laughs"), and a config file
has no need for them.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from core.redaction import quote
from permissions.configfile import fast_yaml
from permissions.configfile.spec import ConfigError, Issue

FORMATS = ("yaml", "json")
BARE_STAR_HINT = "a bare * starts a YAML alias: quote it, as in domain: '*'"
NO_ALIASES = (
    "anchors and aliases (&name, *name) are not allowed in a config file; write the value out "
    f"({BARE_STAR_HINT})"
)
_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


@contextmanager
def few_collections() -> Iterator[None]:
    """No garbage collection while a file is read, checked and planned: that makes hundreds of
    thousands of objects that all live until the end and hold almost no cycles, and the
    collector would walk them again and again for nothing (a quarter of the time of a
    10,000-route file). Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
        # A large file in a fraction of the time; anything unusual is read again below.
        return fast_yaml.load(text)
    except fast_yaml.Unreadable:
        pass
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (_Loader is a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        message = exc.problem or exc.context or "not valid YAML"
        if exc.context == "while scanning an alias":
            message += f" ({BARE_STAR_HINT})"
        raise ConfigError([Issue(where, message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Issue("", f"not valid YAML: {exc}")]) from None


class _DuplicateKey(ValueError):
    pass


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"the key {quote(key)} appears twice in one object")
        result[key] = value
    return result


class _Loader(yaml.SafeLoader):
    """A SafeLoader that refuses anchors, aliases and a key repeated in one mapping."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        # Refused before anything is composed: nothing an alias points to is ever built.
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(None, None, NO_ALIASES, event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Hashable] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {quote(key)} appears twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)
