"""Partly shadowed routes (design §4): paths a route matches that another route gets.

A request goes to the most specific domain that has a route matching its path (exact host >
longest `*.suffix` > `*`), and within that domain to the pattern of highest precedence (exact >
placeholder, more literal segments and earlier ones first > wildcard, longer prefix first). So
a route is partly shadowed

- by a route on a more specific domain whose pattern matches some of the same paths: for the
  hosts of that domain, those paths go to it (a domain-specific route shadows `*` routes);
- by a route on its own domain whose pattern matches some of the same paths and ranks higher:
  `/api/users/me` takes that one path from `/api/users/{id}` and from `/api/users/*`.

Routes that match exactly the same paths cannot both exist (Route's canonical pattern is unique
per domain), so shadowing is always partial. Pure: routes come in as (id, domain, pattern). The
ranking repeats what authz/matching.py decides with, since routes may not import authz; a
property test (routes/tests/test_shadowing.py) holds the two together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from routes.patterns import Kind, Pattern, Segment, parse_pattern


class Why(StrEnum):
    DOMAIN = "a more specific domain"
    PATTERN = "a more specific pattern"


@dataclass(frozen=True)
class RouteRef:
    id: int
    domain: str
    pattern: Pattern

    def __str__(self) -> str:
        return f"{self.domain}{self.pattern.text}"


@dataclass(frozen=True)
class Shadow:
    """`by` gets some of the requests the shadowed route matches, because of `why`."""

    by: RouteRef
    why: Why

    def __str__(self) -> str:
        return f"partly shadowed by route {self.by.id} {self.by} ({self.why})"


def precedence(pattern: Pattern) -> tuple[int, ...]:
    """Of two patterns of one domain that match a path, the larger value gets it."""
    literal_rank = (pattern.literal_count, *(0 if s.is_param else 1 for s in pattern.segments))
    if pattern.kind is Kind.EXACT:
        return (2,)
    if pattern.kind is Kind.PLACEHOLDER:
        return (1, *literal_rank)
    return (0, len(pattern.segments), *literal_rank)


def outranks(other: str, domain: str) -> bool:
    """Whether domain `other` is tried before `domain` for some host that both apply to."""
    if other == domain:
        return False
    if domain == "*":
        return True
    # Nothing is more specific than an exact host; no `*.suffix` applies to an IPv6 address.
    if not domain.startswith("*.") or other.startswith("["):
        return False
    suffix = domain[2:]
    if other.startswith("*."):
        return other[2:].endswith(f".{suffix}")
    return other == suffix or other.endswith(f".{suffix}")


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    ends: list[RouteRef] = field(default_factory=list)  # non-wildcard patterns ending here
    wilds: list[RouteRef] = field(default_factory=list)  # `.../*` patterns ending here

    def child(self, segment: Segment) -> _Node:
        if segment.is_param:
            self.param = self.param or _Node()
            return self.param
        return self.literals.setdefault(segment.text, _Node())

    def below(self) -> Iterator[RouteRef]:
        yield from self.ends
        yield from self.wilds
        for node in (*self.literals.values(), *([self.param] if self.param else [])):
            yield from node.below()


def _overlapping(node: _Node, pattern: Pattern, depth: int = 0) -> Iterator[RouteRef]:
    """Every pattern in the trie that matches at least one path `pattern` matches."""
    # A wildcard ending here matches every path through here.
    yield from node.wilds
    if depth == len(pattern.segments):
        if pattern.wildcard:
            yield from node.ends
            for child in (*node.literals.values(), *([node.param] if node.param else [])):
                yield from child.below()
        else:
            yield from node.ends
        return
    segment = pattern.segments[depth]
    if segment.is_param:
        children = [*node.literals.values(), node.param]
    else:
        children = [node.literals.get(segment.text), node.param]
    for child in children:
        if child is not None:
            yield from _overlapping(child, pattern, depth + 1)


class ShadowIndex:
    """Every route, by domain and path segment, to answer "who shadows this route?" without
    comparing it with every other route."""

    def __init__(self, routes: Iterable[tuple[int, str, str]]) -> None:
        self._tries: dict[str, _Node] = {}
        for route_id, domain, text in routes:
            ref = RouteRef(route_id, domain, parse_pattern(text))
            node = self._tries.setdefault(domain, _Node())
            for segment in ref.pattern.segments:
                node = node.child(segment)
            (node.wilds if ref.pattern.wildcard else node.ends).append(ref)

    def shadows(self, route_id: int, domain: str, text: str) -> tuple[Shadow, ...]:
        """Who gets some of the requests this route matches, in route id order."""
        pattern = parse_pattern(text)
        rank = precedence(pattern)
        found: list[Shadow] = []
        for other, trie in self._tries.items():
            if other == domain:
                found.extend(
                    Shadow(ref, Why.PATTERN)
                    for ref in _overlapping(trie, pattern)
                    if ref.id != route_id and precedence(ref.pattern) > rank
                )
            elif outranks(other, domain):
                found.extend(Shadow(ref, Why.DOMAIN) for ref in _overlapping(trie, pattern))
        return tuple(sorted(found, key=lambda shadow: shadow.by.id))

    def taken_from(self, route_id: int, domain: str, text: str) -> tuple[Shadow, ...]:
        """The other way round: the routes this route takes some requests from. Each answer's
        `by` is that other route; `why` says what makes this route win."""
        pattern = parse_pattern(text)
        rank = precedence(pattern)
        found: list[Shadow] = []
        for other, trie in self._tries.items():
            if other == domain:
                found.extend(
                    Shadow(ref, Why.PATTERN)
                    for ref in _overlapping(trie, pattern)
                    if ref.id != route_id and rank > precedence(ref.pattern)
                )
            elif outranks(domain, other):
                found.extend(Shadow(ref, Why.DOMAIN) for ref in _overlapping(trie, pattern))
        return tuple(sorted(found, key=lambda shadow: shadow.by.id))
