"""One masker for keys, secrets and `api_key` query values, used wherever something is logged."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

REDACTED = "[redacted]"


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
