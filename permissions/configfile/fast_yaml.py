"""A fast reader for the YAML a config file holds: libyaml's event stream (C) turned into plain
data by a small loop, without PyYAML's node graph and per-node constructor calls.

A 10,000-route file takes a few hundred milliseconds and little memory this way, against
seconds with the pure-Python loader (issue 12, item 5). It reads the common shape only: plain
and quoted scalars, mappings and sequences in one document. Anything else (an explicit tag, a
repeated key, an anchor or alias, a second document, a syntax error) raises `Unreadable`, and
the caller reads the text again with the full loader, whose messages and checks operators know.
Plain scalars are resolved as PyYAML resolves them (`true`, `12`, `~`, ...): a scalar whose
first character no implicit type can start with is a string without asking the resolver.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml: the full loader reads everything
    CParser = None

_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# First characters that some implicit type (bool, int, float, null, timestamp, merge) may have.
_TYPED_STARTS = frozenset(
    char for char in _RESOLVER.yaml_implicit_resolvers if char is not None and char != ""
)
_STR = "tag:yaml.org,2002:str"
AVAILABLE = CParser is not None


class Unreadable(Exception):
    """This text needs the full loader (for its message, or for a feature read only there)."""


def _scalar(event: yaml.ScalarEvent) -> Any:
    value = event.value
    if event.tag is not None:
        raise Unreadable
    if not event.implicit[0]:
        return value  # quoted or block: a string
    if value and value[0] not in _TYPED_STARTS:
        return value
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    if tag == _STR:
        return value
    return _CONSTRUCTOR.construct_object(yaml.ScalarNode(tag, value), deep=True)


def load(text: str) -> Any:
    """The document's data, or Unreadable."""
    if not AVAILABLE:
        raise Unreadable
    stack: list[Any] = []  # open containers; a mapping's pending key follows it
    root: list[Any] = []
    documents = 0
    # Locals: this loop runs once per scalar of the file (hundreds of thousands).
    scalar_event, mapping_start, sequence_start = (
        yaml.ScalarEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
    )
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    stream_end = yaml.StreamEndEvent
    try:
        # libyaml's parser itself, without yaml.parse's generator around each event.
        next_event = CParser(text).get_event
        while (kind := type(event := next_event())) is not stream_end:
            if kind is scalar_event:
                if event.anchor is not None:
                    raise Unreadable
                _add(stack, root, _scalar(event))
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag is not None:
                    raise Unreadable
                container: Any = {} if kind is mapping_start else []
                _add(stack, root, container)
                stack.append(container)
                if kind is mapping_start:
                    stack.append(_NO_KEY)
            elif kind is mapping_end:
                del stack[-2:]  # the mapping and its pending-key slot
            elif kind is sequence_end:
                stack.pop()
            elif kind is yaml.AliasEvent:
                raise Unreadable
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise Unreadable
            elif event is None:  # the stream ended without saying so: never loop on it
                raise Unreadable
    except yaml.YAMLError:
        raise Unreadable from None
    return root[0] if root else None


class _NoKey:
    pass


_NO_KEY = _NoKey()


def _add(stack: list[Any], root: list[Any], value: Any) -> None:
    if not stack:
        root.append(value)
        return
    top = stack[-1]
    if isinstance(top, list):
        top.append(value)
        return
    # A mapping: `top` is its pending key (or none yet), the mapping is below it.
    mapping = stack[-2]
    if top is _NO_KEY:
        if not isinstance(value, Hashable) or value in mapping:
            raise Unreadable
        stack[-1] = value
    else:
        mapping[top] = value
        stack[-1] = _NO_KEY
