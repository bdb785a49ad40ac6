"""The route grammar: domains and path patterns (design §3, §4), in one place.

`parse_pattern` and `normalize_domain` are what the admin, the commands and the config file
validate with, and what the decision engine compiles its index from. The `*_REGEX` strings
say the same thing to the database (check constraints on PostgreSQL and SQLite), so a row
that bypassed the Python validation still cannot hold a pattern the engine cannot read.

Pattern forms:
- exact            `/api/users/me`
- placeholder      `/api/users/{id}/orders` (one non-empty segment per `{name}`)
- trailing wildcard `/api/users/*` (also `/api/users`; never `/api/usersX`); `/*` matches all

Literal segments hold what a normalised request path can hold (design §4): letters, digits,
`- . _ ~ ! $ & ( ) + , = : @`, and `%XX` escapes (upper-case hex) of any other byte except the
ones normalisation denies. A segment made only of dots, an empty segment (`//`), a trailing
slash, `;`, `\\`, `*` inside a segment and unbalanced braces are rejected.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass

from core.redaction import quote, quote_short

# The canonical order, used wherever methods are listed (Permission.methods, exports).
METHODS: tuple[str, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_PCHAR = r"[A-Za-z0-9_~!$&()+,=:@-]|%[0-9A-F]{2}"
_LITERAL = rf"\.*({_PCHAR})(\.|{_PCHAR})*"
_PARAM = r"\{[A-Za-z_][A-Za-z0-9_]*\}"
# Shared by Python's `re` (SQLite's REGEXP) and PostgreSQL's `~`: plain ERE syntax only.
# `$` in Python also matches before a final newline, so the constraints also forbid "\n".
PATTERN_REGEX = rf"^(/|/\*|(/({_LITERAL}|{_PARAM}))+(/\*)?)$"

_LABEL = r"[a-z0-9_-]+"
DOMAIN_REGEX = rf"^(\*|(\*\.)?{_LABEL}(\.{_LABEL})*|\[[0-9a-f:.]+\])$"

METHOD_LIST_REGEX = "^({m})(,({m}))*$".format(m="|".join(METHODS))

MAX_PATTERN_LENGTH = 500
MAX_DOMAIN_LENGTH = 255

# Escapes that a request path may never carry (design §4 step 3 denies them), so a pattern
# containing one could never match: `/`, `\`, `;` and controls.
_DENIED_ESCAPES = {"2F", "5C", "3B", "7F"} | {f"{n:02X}" for n in range(0x20)}
# One spelling for requests and patterns: a backend that decodes once reads `%3A` as `:`, so
# normalisation writes every printable ASCII byte raw, except the three whose escape means
# something else once decoded (`#`, `%`, `?`). Space and non-ASCII bytes stay escaped.
RAW_IN_PATHS = frozenset(range(0x21, 0x7F)) - {0x23, 0x25, 0x3F}
_LITERAL_CHAR = re.compile(rf"\.|{_PCHAR}")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_LITERAL_RE = re.compile(_LITERAL)
_PARAM_RE = re.compile(_PARAM)
# A whole `{name}` segment (a literal segment never holds a brace).
_PARAM_SEGMENT_RE = re.compile(rf"(?<=/){_PARAM}(?=/|$)")
UNNAMED_PARAM = "{}"
_LABEL_RE = re.compile(_LABEL)


class PatternError(ValueError):
    """A pattern or domain that the grammar does not allow; the message says why."""


class Kind(enum.IntEnum):
    """Pattern kinds, in precedence order (lower value wins)."""

    EXACT = 0
    PLACEHOLDER = 1
    WILDCARD = 2


@dataclass(frozen=True)
class Segment:
    """One path segment of a pattern: a literal, or a `{name}` placeholder."""

    text: str
    param: str | None = None

    @property
    def is_param(self) -> bool:
        return self.param is not None


@dataclass(frozen=True)
class Pattern:
    """A parsed path pattern. `segments` excludes the trailing `*` of a wildcard."""

    text: str
    segments: tuple[Segment, ...]
    wildcard: bool

    @property
    def kind(self) -> Kind:
        if self.wildcard:
            return Kind.WILDCARD
        if any(segment.is_param for segment in self.segments):
            return Kind.PLACEHOLDER
        return Kind.EXACT

    @property
    def literal_count(self) -> int:
        return sum(1 for segment in self.segments if not segment.is_param)


def parse_pattern(text: str) -> Pattern:
    """Parse and validate a path pattern; raise PatternError with a message for an operator."""
    if not isinstance(text, str) or not text:
        raise PatternError("A pattern is required, e.g. /api/users/* or /api/users/{id}.")
    if len(text) > MAX_PATTERN_LENGTH:
        raise PatternError(f"A pattern may be at most {MAX_PATTERN_LENGTH} characters long.")
    if not text.startswith("/"):
        raise PatternError("A pattern starts with '/'.")
    if text in ("/", "/*"):
        return Pattern(text, (), wildcard=text == "/*")
    wildcard = text.endswith("/*")
    body = text[:-2] if wildcard else text
    if body.endswith("/"):
        raise PatternError(
            "Leave out the trailing '/': a pattern also matches the path with one trailing slash."
        )
    segments: list[Segment] = []
    names: set[str] = set()
    for raw in body[1:].split("/"):
        segment = _parse_segment(raw)
        if segment.param is not None:
            if segment.param in names:
                raise PatternError(f"The placeholder {{{segment.param}}} appears twice.")
            names.add(segment.param)
        segments.append(segment)
    return Pattern(text, tuple(segments), wildcard)


def canonical_pattern(text: str) -> str:
    """The pattern with its placeholders unnamed: `/api/orders/{id}` -> `/api/orders/{}`.

    A placeholder matches any one segment whatever its name, so two patterns with the same
    canonical form match exactly the same paths: they are the same route (the unique
    constraint on Route says so). Works on any text, valid pattern or not.
    """
    return _PARAM_SEGMENT_RE.sub(UNNAMED_PARAM, text)


def _parse_segment(raw: str) -> Segment:
    if raw == "":
        raise PatternError("A pattern may not contain an empty segment ('//').")
    if _PARAM_RE.fullmatch(raw):
        return Segment(raw, param=raw[1:-1])
    if "{" in raw or "}" in raw:
        raise PatternError(
            f"{quote(raw)}: a placeholder is a whole segment like {{id}} "
            "(letters, digits and '_', not starting with a digit)."
        )
    if "*" in raw:
        raise PatternError(f"{quote(raw)}: '*' is allowed only as the last segment ('/*').")
    if set(raw) == {"."}:
        raise PatternError(f"{quote(raw)}: a segment made only of dots is never matched.")
    for escape in _ESCAPE.findall(raw):
        hex_digits = escape.upper()
        if escape != hex_digits:
            raise PatternError(
                f"%{escape}: write percent escapes with upper-case hex (%{hex_digits})."
            )
        if hex_digits in _DENIED_ESCAPES:
            raise PatternError(f"%{escape}: requests with this escape are always denied.")
        char = chr(int(hex_digits, 16))
        if int(hex_digits, 16) in RAW_IN_PATHS:
            if _LITERAL_CHAR.fullmatch(char):
                raise PatternError(
                    f"%{escape}: write {char!r} itself; requests are matched with printable "
                    "characters decoded, as the backend reads them."
                )
            raise PatternError(
                f"%{escape}: {char!r} cannot be part of a literal segment; requests carrying "
                "it are matched by placeholders and wildcards only."
            )
    if not _LITERAL_RE.fullmatch(raw):
        leftover = _ESCAPE.sub("", raw)
        bad = [repr(c) for c in sorted(set(leftover) - {".", "%"}) if not re.fullmatch(_PCHAR, c)]
        if "%" in leftover:
            bad.append("a '%' without two hex digits after it")
        raise PatternError(f"{quote(raw)}: not allowed in a path pattern: {', '.join(bad)}.")
    return Segment(raw)


def normalize_domain(text: str) -> str:
    """Validate a route domain and return its canonical form (lower case, no trailing dot).

    `*` matches every host; `*.example.com` matches `example.com` and every name below it;
    anything else is an exact host: a DNS name (IDNs are converted to punycode), an IPv4
    address or a bracketed IPv6 address.
    """
    if not isinstance(text, str) or not text.strip():
        raise PatternError("A domain is required: a host name, '*.example.com' or '*'.")
    domain = text.strip().lower()
    # Checked first so that no message below quotes an unbounded value at length.
    if len(domain) > MAX_DOMAIN_LENGTH + 1:
        raise PatternError(f"A domain may be at most {MAX_DOMAIN_LENGTH} characters long.")
    if domain == "*":
        return domain
    if domain.startswith("["):
        return _normalize_ipv6(domain)
    if domain.endswith(".") and not domain.endswith(".."):
        domain = domain[:-1]
    wildcard = domain.startswith("*.")
    name = domain[2:] if wildcard else domain
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise PatternError(
                f"{quote(text)} is not a valid internationalised domain name."
            ) from None
    labels = name.split(".")
    if any(label == "" for label in labels):
        raise PatternError(
            f"{quote(text)}: a domain may not have an empty label ('..' or a leading dot)."
        )
    for label in labels:
        if not _LABEL_RE.fullmatch(label):
            bad = " ".join(sorted({repr(c) for c in label if not _LABEL_RE.fullmatch(c)}))
            raise PatternError(
                f"{quote(text)}: a domain label holds only a-z, 0-9, '-' and '_' (found {bad}); "
                "use '*' alone or '*.' at the start for wildcards."
            )
        if len(label) > 63:
            raise PatternError(f"{quote(text)}: a domain label may be at most 63 characters long.")
    if wildcard and _is_ipv4(name):
        raise PatternError(f"{quote(text)}: a wildcard needs a DNS suffix, not an IP address.")
    result = f"*.{name}" if wildcard else name
    if len(result) > MAX_DOMAIN_LENGTH:
        raise PatternError(f"A domain may be at most {MAX_DOMAIN_LENGTH} characters long.")
    return result


def _normalize_ipv6(domain: str) -> str:
    if not domain.endswith("]"):
        raise PatternError(
            f"{quote(domain)}: an IPv6 address is written in brackets, like [2001:db8::1]."
        )
    try:
        address = ipaddress.IPv6Address(domain[1:-1])
    except ValueError:
        address = None
    # ipaddress accepts a zone id (`fe80::1%eth0`); a Host header may not carry one.
    if address is None or address.scope_id is not None:
        raise PatternError(f"{quote(domain)} is not an IPv6 address (zone ids are not allowed).")
    return f"[{address.compressed}]"


def _is_ipv4(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def normalize_methods(methods: object) -> tuple[str, ...]:
    """Validate a collection of method names; return them unique, in canonical order.

    Names are accepted in any case here (operators type `get`); requests are matched
    case-sensitively against the canonical upper-case names.
    """
    if isinstance(methods, str):
        methods = [m for m in re.split(r"[\s,]+", methods) if m]
    if not isinstance(methods, list | tuple | set | frozenset):
        raise PatternError("Methods are a list like [GET, POST].")
    wanted = set()
    for method in methods:
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise PatternError(f"{quote_short(method)} is not a method; use {', '.join(METHODS)}.")
        wanted.add(method.upper())
    if not wanted:
        raise PatternError("At least one method is required.")
    return tuple(m for m in METHODS if m in wanted)
