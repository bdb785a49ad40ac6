"""A decision request as the decision server received it: no Django, no framework.

Header names are lower-case. A header sent more than once is joined with "," as HTTP allows
(and as the WSGI servers did) and also listed in `repeated`, so that a reader can refuse a
proxy header that must come once. Values are decoded as ISO-8859-1, so every byte survives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Incoming:
    method: str
    # The request target's path exactly as sent (still percent-encoded), and its query.
    raw_path: str
    query: str
    headers: Mapping[str, str] = field(repr=False)
    repeated: frozenset[str]
    peer: str
    # The body the proxy passed; None when it was larger than the server reads.
    body: bytes | None = field(default=b"", repr=False)

    @property
    def target(self) -> str:
        return f"{self.raw_path}?{self.query}" if self.query else self.raw_path

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def collect_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[dict[str, str], frozenset[str]]:
    """ASGI header pairs -> ({name: value}, names sent more than once)."""
    headers: dict[str, str] = {}
    repeated: set[str] = set()
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in headers:
            repeated.add(name)
            headers[name] = f"{headers[name]},{value}"
        else:
            headers[name] = value
    return headers, frozenset(repeated)
