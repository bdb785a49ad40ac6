"""Host, target and method normalisation (design §4): pure functions, no Django.

The rule behind every choice here: never decide on a path that the backend may read
differently. With nginx the backend receives the raw `$request_uri`, and backends disagree on
dot segments, `;` parameters, encoded slashes and backslashes, so such paths are denied
(`malformed_request`) rather than resolved. What remains is matched exactly as the backend
will see it after it decodes percent escapes once.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from authz.reasons import Detail
from routes.patterns import RAW_IN_PATHS


class Malformed(Exception):
    """The request cannot be decided safely; the engine answers `malformed_request`."""

    def __init__(self, detail: Detail, message: str) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Target:
    """A request target split and normalised: `path` for matching, `query` as sent."""

    path: str
    query: str | None


# Step 1: raw space, '#', C0 controls, DEL and anything outside ASCII anywhere in the target.
_BAD_TARGET_CHAR = re.compile(r"[\x00-\x20#\x7f-\U0010ffff]")
# Step 2: in the path, '\', ';' (raw or encoded) and a '%' without two hex digits.
_BAD_PATH = re.compile(r"[\\;]|%3[Bb]|%(?![0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_SLASHES = re.compile(r"//+")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.+(?:/|$)")
# Escapes that decode to '/', '\' or a control character (NUL included).
_DENIED_BYTES = frozenset([0x2F, 0x5C, 0x7F, *range(0x20)])
# A path with none of '%', '//', '/.' needs no rewriting at all: the common case.
_NEEDS_WORK = re.compile(r"%|//|/\.")

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_PORT = re.compile(r"[0-9]{0,5}")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def normalize_target(raw: str) -> Target:
    """Validate a raw request target (`X-Original-URI`) and normalise its path (steps 1-5)."""
    if not raw.startswith("/"):
        # absolute-form (`http://...`), asterisk-form (`*`) and an empty target
        raise Malformed(Detail.BAD_TARGET, "the target is not origin-form")
    if _BAD_TARGET_CHAR.search(raw):
        raise Malformed(Detail.BAD_TARGET, "the target holds a space, '#', a control or non-ASCII")
    path, sep, query = raw.partition("?")
    return Target(normalize_path(path), query if sep else None)


def normalize_path(path: str) -> str:
    """Steps 2-5 of design §4 on a path that already passed step 1."""
    if _BAD_PATH.search(path):
        raise Malformed(Detail.AMBIGUOUS_PATH, "the path holds '\\', ';' or a malformed escape")
    if not _NEEDS_WORK.search(path):
        return path
    if "%" in path:
        path = _decode_escapes(path)
    path = _SLASHES.sub("/", path)
    if _DOT_SEGMENT.search(path):
        raise Malformed(Detail.AMBIGUOUS_PATH, "the path holds a dot segment")
    return path


def _decode_escapes(path: str) -> str:
    """Step 3, made canonical: the spelling `routes.patterns` requires of patterns."""

    def replace(match: re.Match[str]) -> str:
        value = int(match.group(1), 16)
        if value in _DENIED_BYTES:
            raise Malformed(Detail.AMBIGUOUS_PATH, "an escape decodes to '/', '\\' or a control")
        if value in RAW_IN_PATHS:
            # `%3A` and `:` are one path to a backend that decodes once: match them as one.
            return chr(value)
        # Hex case carries no meaning (RFC 3986 §6.2.2.1); upper case matches the patterns.
        return "%" + match.group(1).upper()

    decoded = _ESCAPE.sub(replace, path)
    try:
        unquote_to_bytes(decoded).decode("utf-8")
    except UnicodeDecodeError:
        # Overlong forms such as %C0%AE ('.') are invalid UTF-8 and end here too.
        raise Malformed(Detail.AMBIGUOUS_PATH, "escapes decode to invalid UTF-8") from None
    return decoded


def normalize_host(raw: str) -> str:
    """Lower-case, strip the port and one trailing dot; accept only a DNS name, an IPv4
    address or a bracketed IPv6 address without a zone id."""
    # ASCII first: str.lower() maps some non-ASCII letters to ASCII (KELVIN SIGN -> 'k').
    if not raw.isascii():
        raise Malformed(Detail.BAD_HOST, "the host is not ASCII (IDNs arrive as punycode)")
    host = raw.lower()
    if host.startswith("["):
        return _normalize_ipv6(host)
    name, colon, port = host.partition(":")
    if colon and not _PORT.fullmatch(port):
        raise Malformed(Detail.BAD_HOST, "the host has a bad port")
    if name.endswith("."):
        name = name[:-1]
    if not name or len(name) > 253:
        raise Malformed(Detail.BAD_HOST, "the host is empty or too long")
    labels = name.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise Malformed(Detail.BAD_HOST, "the host is not a DNS name or IP address")
    # A name whose last label is a number (decimal, or 0x hex) is read as an IPv4 address by
    # URL parsers and inet_aton (`1.2.3`, `0177.0.0.1`, `127.1`, `0x7f000001`): only the
    # canonical dotted quad is accepted.
    if _NUMERIC_LABEL.fullmatch(labels[-1]) and not _is_canonical_ipv4(name):
        raise Malformed(Detail.BAD_HOST, "the host is not a canonical IPv4 address")
    return name


def _normalize_ipv6(host: str) -> str:
    end = host.find("]")
    if end < 0:
        raise Malformed(Detail.BAD_HOST, "an IPv6 host lacks its ']'")
    literal, rest = host[1:end], host[end + 1 :]
    if rest and not (rest.startswith(":") and _PORT.fullmatch(rest[1:])):
        raise Malformed(Detail.BAD_HOST, "the host has a bad port")
    if "%" in literal or not literal:
        raise Malformed(Detail.BAD_HOST, "IPv6 zone ids are not accepted")
    try:
        address = ipaddress.IPv6Address(literal)
    except ValueError:
        raise Malformed(Detail.BAD_HOST, "the host is not an IPv6 address") from None
    return f"[{address.compressed}]"


def _is_canonical_ipv4(name: str) -> bool:
    try:
        return str(ipaddress.IPv4Address(name)) == name
    except ValueError:
        return False


def check_method(raw: str) -> str:
    """Methods are case-sensitive tokens: `delete` is not `DELETE`, and is simply unconfigured."""
    if not _TOKEN.fullmatch(raw):
        raise Malformed(Detail.BAD_METHOD, "the method is not an HTTP token")
    return raw
