"""One masker for keys, secrets and `api_key` query values, used wherever something is logged,
and one way to quote a value in an error message.

Error messages quote what the operator wrote only where that is needed to find the mistake (a
bad pattern segment, a bad domain label), and never more than `QUOTE_LIMIT` characters of it:
any value may be a key pasted into the wrong field, and a value quoted whole can be as large
as the input (an expanded YAML alias once needed gigabytes). A value that fails a choice or a
lookup (a kind, a status, a client name, a prefix) is not quoted at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

REDACTED = "[redacted]"
# At most this many characters of a value appear in an error message.
QUOTE_LIMIT = 32
# No key or secret shorter than this can be imported (clients.keys.IMPORT_MIN_LENGTH), so a
# shorter value cannot be a whole credential and may be repeated in a message.
SHORTEST_SECRET = 8


def mask_secret(value: str, *, keep: int = 0) -> str:
    """Show at most `keep` leading characters of a secret (its public prefix), never the rest."""
    if keep <= 0 or len(value) <= keep:
        return REDACTED
    return f"{value[:keep]}…{REDACTED}"


def redact_query(target: str, param_names: Iterable[str]) -> str:
    """Replace the value of every credential-carrying query parameter in a request target.

    Parameter names are compared after percent-decoding, as the API-key reader compares them,
    so `?api%5Fkey=...` is redacted too, and in any case: `?API_KEY=` is no credential to
    Gatekeeper, but the caller meant one, and it must not reach a log either.
    """
    path, sep, query = target.partition("?")
    if not sep:
        return target
    names = {name.lower() for name in param_names}
    parts = []
    for pair in query.split("&"):
        name, eq, _value = pair.partition("=")
        if eq and unquote(name).lower() in names:
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(pair)
    return f"{path}?{'&'.join(parts)}"


def describe(value: object) -> str:
    """What kind of value this is, for messages about a value of the wrong type."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def quote(value: object) -> str:
    """A string in quotes, cut to QUOTE_LIMIT characters; any other value only by its kind.

    The work is bounded by QUOTE_LIMIT whatever the value's size (never `repr(value)` whole).
    """
    if not isinstance(value, str):
        return describe(value)
    if len(value) <= QUOTE_LIMIT:
        return repr(value)
    return f"{value[:QUOTE_LIMIT]!r}… ({len(value):,} characters)"


def quote_short(value: object) -> str:
    """`quote(value)` when the value is too short to be a credential; else only its length.

    For messages about a value that failed a choice or a lookup, where a key pasted into the
    wrong field is the likeliest long value.
    """
    if isinstance(value, str) and len(value) >= SHORTEST_SECRET:
        return f"a value of {len(value):,} characters (not shown)"
    return quote(value)
