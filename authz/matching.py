"""The route index (design §4): host precedence, then a segment trie per domain. Pure.

Precedence: the most specific domain that has a route matching the path wins (exact host >
longest `*.suffix` > `*`); within it, exact > placeholder (more literal segments first) >
wildcard (longer prefix first, then more literal segments). Ties between patterns of equal
rank go to the one whose literal segments come earlier, so the answer never depends on the
order routes were loaded in.

Lookup cost depends on the host's label count and the path's segment count, not on the
number of routes: every step is a dict lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from routes.patterns import Kind, Pattern

R = TypeVar("R")


@dataclass(slots=True)
class _Node(Generic[R]):
    literals: dict[str, _Node[R]] = field(default_factory=dict)
    param: _Node[R] | None = None
    # (rank, route) of the placeholder pattern that ends here, and of the wildcard `.../*`.
    end: tuple[tuple[int, ...], R] | None = None
    wild: tuple[tuple[int, ...], R] | None = None


_RANKS: dict[str, tuple[int, ...]] = {}


def _literal_rank(pattern: Pattern) -> tuple[int, ...]:
    """Sort key, larger is more specific: literal count, then literals placed earlier."""
    # Snapshots are rebuilt often from mostly the same patterns: rank each text once.
    rank = _RANKS.get(pattern.text)
    if rank is None:
        if len(_RANKS) > 200_000:
            _RANKS.clear()
        flags = tuple(0 if segment.is_param else 1 for segment in pattern.segments)
        rank = _RANKS[pattern.text] = (pattern.literal_count, *flags)
    return rank


class PathTable(Generic[R]):
    """All the patterns of one domain entry."""

    __slots__ = ("_exact", "_root")

    def __init__(self) -> None:
        self._exact: dict[str, R] = {}
        self._root: _Node[R] = _Node()

    def add(self, pattern: Pattern, route: R) -> None:
        # Patterns equal up to placeholder names (`/a/{x}` and `/a/{y}`) share a node: the
        # first one added (the snapshot adds in id order) keeps it.
        if pattern.kind is Kind.EXACT:
            self._exact.setdefault(pattern.text, route)
            return
        node = self._root
        for segment in pattern.segments:
            if segment.is_param:
                node.param = node.param or _Node()
                node = node.param
            else:
                node = node.literals.setdefault(segment.text, _Node())
        entry = (_literal_rank(pattern), route)
        if pattern.wildcard:
            node.wild = node.wild or entry
        else:
            node.end = node.end or entry

    def match(self, path: str) -> R | None:
        """The best route for a normalised path (one trailing slash is ignored)."""
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        route = self._exact.get(path)
        if route is not None:
            return route
        segments = path[1:].split("/") if path != "/" else []
        best_end: tuple[tuple[int, ...], R] | None = None
        best_wild: tuple[tuple[int, ...], R] | None = None
        for depth, node in self._walk(self._root, segments, 0):
            ends_here = depth == len(segments) and node.end is not None
            if ends_here and (best_end is None or node.end[0] > best_end[0]):
                best_end = node.end
            if node.wild is not None:
                rank = (depth, *node.wild[0])
                if best_wild is None or rank > best_wild[0]:
                    best_wild = (rank, node.wild[1])
        if best_end is not None:
            return best_end[1]
        return best_wild[1] if best_wild is not None else None

    def _walk(
        self, node: _Node[R], segments: list[str], depth: int
    ) -> Iterator[tuple[int, _Node[R]]]:
        """Every trie node the path reaches, with the number of segments consumed."""
        yield depth, node
        if depth == len(segments):
            return
        segment = segments[depth]
        child = node.literals.get(segment)
        if child is not None:
            yield from self._walk(child, segments, depth + 1)
        if node.param is not None:
            yield from self._walk(node.param, segments, depth + 1)


class RouteIndex(Generic[R]):
    """Routes by domain: exact hosts, `*.suffix` wildcards, and `*`."""

    __slots__ = ("_exact", "_star", "_suffixes")

    def __init__(self, entries: Iterable[tuple[str, Pattern, R]]) -> None:
        self._exact: dict[str, PathTable[R]] = {}
        self._suffixes: dict[str, PathTable[R]] = {}
        self._star: PathTable[R] | None = None
        for domain, pattern, route in entries:
            self._table_for(domain).add(pattern, route)

    def _table_for(self, domain: str) -> PathTable[R]:
        if domain == "*":
            self._star = self._star or PathTable()
            return self._star
        if domain.startswith("*."):
            return self._suffixes.setdefault(domain[2:], PathTable())
        return self._exact.setdefault(domain, PathTable())

    def tables_for(self, host: str) -> Iterator[tuple[str, PathTable[R]]]:
        """The domain entries that apply to a normalised host, most specific first."""
        table = self._exact.get(host)
        if table is not None:
            yield host, table
        if not host.startswith("["):
            # `*.example.com` covers example.com itself and every name below it.
            suffix = host
            while True:
                table = self._suffixes.get(suffix)
                if table is not None:
                    yield f"*.{suffix}", table
                dot = suffix.find(".")
                if dot < 0:
                    break
                suffix = suffix[dot + 1 :]
        if self._star is not None:
            yield "*", self._star

    def match(self, host: str, path: str) -> R | None:
        """The route of the most specific domain that has one matching the path."""
        for _domain, table in self.tables_for(host):
            route = table.match(path)
            if route is not None:
                return route
        return None
