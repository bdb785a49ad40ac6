"""What credential a request presents (design §6). Pure: headers and query in, `Presented` out.

API keys come from `Authorization: Bearer|ApiKey <key>`, a bare `Authorization: <key>`,
`X-API-Key` and the configured query parameters; `Authorization: HMAC ...` is the HMAC scheme.
Other schemes (`Basic`, `Digest`, ...) belong to the backend and are ignored. Two different
credentials in one request are refused (`conflicting_credentials`): a gateway that picks one
of them lets the backend and the gateway disagree about who called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from authz.reasons import Detail

_KEY_SCHEMES = frozenset({"bearer", "apikey"})
# Scheme names that are never a bare key when they stand alone (`Authorization: Bearer`).
_SCHEME_NAMES = _KEY_SCHEMES | {"basic", "digest", "negotiate", "ntlm", "aws4-hmac-sha256"}
_HMAC_SCHEME = "hmac"
_OUR_SCHEMES = _KEY_SCHEMES | {_HMAC_SCHEME}
_WHITESPACE = re.compile(r"[ \t]")
_FIRST_GAP = re.compile(r"[ \t]+")
_HMAC_PAIR = re.compile(r'\s*([A-Za-z_]+)\s*=\s*"([^"]*)"\s*')
_HMAC_FIELDS = frozenset({"client_id", "timestamp", "nonce", "signature"})
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9A-Fa-f]{64}")
# Nonces become cache keys: printable ASCII without quotes, bounded.
_NONCE = re.compile(r"[!#-~]{1,128}")


class CredentialError(Exception):
    """The presented credentials cannot be used; `detail` says why (audit only)."""

    def __init__(self, detail: Detail) -> None:
        super().__init__(detail.value)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class HmacFields:
    """The fields as sent: the signature covers the timestamp's exact digits."""

    client_id: str
    timestamp: str
    nonce: str
    signature: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Presented:
    """At most one credential: an API key or HMAC fields, or neither."""

    api_key: str | None = field(default=None, repr=False)
    hmac: HmacFields | None = None

    @property
    def kind(self) -> str | None:
        if self.api_key is not None:
            return "api_key"
        return "hmac" if self.hmac is not None else None


NOTHING = Presented()


def extract(
    authorization: str | None,
    x_api_key: str | None,
    query: str | None,
    query_params: Iterable[str],
) -> Presented:
    """The single credential a request presents; raise CredentialError for a malformed HMAC
    header or for two different credentials."""
    keys: set[str] = set()
    hmac_fields = None
    if authorization:
        scheme, rest = _split_scheme(authorization)
        lowered = scheme.lower()
        if lowered == _HMAC_SCHEME:
            hmac_fields = parse_hmac(rest)
        elif lowered in _KEY_SCHEMES:
            key = rest.strip()
            if _WHITESPACE.search(key):
                raise CredentialError(Detail.MALFORMED_CREDENTIALS)
            if key:
                keys.add(key)
        elif not rest and scheme and lowered not in _SCHEME_NAMES:
            # A bare token is a key (the seed's clients send it so); `Basic ...` is not.
            keys.add(scheme)
    if x_api_key and x_api_key.strip():
        keys.add(x_api_key.strip())
    if query:
        keys.update(_query_keys(query, frozenset(query_params)))
    if len(keys) > 1 or (keys and hmac_fields is not None):
        raise CredentialError(Detail.CONFLICTING_CREDENTIALS)
    if hmac_fields is not None:
        return Presented(hmac=hmac_fields)
    if keys:
        return Presented(api_key=keys.pop())
    return NOTHING


def _split_scheme(authorization: str) -> tuple[str, str]:
    """`Scheme <rest>`: RFC 9110 separates them with spaces. A tab after one of our schemes is
    a malformed credential (never a bare key); after another scheme, not ours to judge."""
    value = authorization.strip()
    match = _FIRST_GAP.search(value)
    if match is None:
        return value, ""
    scheme, rest = value[: match.start()], value[match.end() :]
    if "\t" in match.group() and scheme.lower() in _OUR_SCHEMES:
        raise CredentialError(Detail.MALFORMED_CREDENTIALS)
    return scheme, rest


def _query_keys(query: str, names: frozenset[str]) -> list[str]:
    found = []
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        if eq and value and unquote(name) in names:
            # Compared after percent-decoding: `gk_a%5Fb` is the key `gk_a_b`.
            found.append(unquote(value))
    return found


def parse_hmac(params: str) -> HmacFields:
    """`client_id="..",timestamp="..",nonce="..",signature=".."`: each field exactly once."""
    values: dict[str, str] = {}
    for part in params.split(","):
        match = _HMAC_PAIR.fullmatch(part)
        if match is None:
            raise CredentialError(Detail.MALFORMED_CREDENTIALS)
        name, value = match.groups()
        if name not in _HMAC_FIELDS or name in values:
            raise CredentialError(Detail.MALFORMED_CREDENTIALS)
        values[name] = value
    if values.keys() != _HMAC_FIELDS:
        raise CredentialError(Detail.MALFORMED_CREDENTIALS)
    timestamp, nonce, signature = values["timestamp"], values["nonce"], values["signature"]
    valid = (
        values["client_id"]
        and _TIMESTAMP.fullmatch(timestamp)
        and _NONCE.fullmatch(nonce)
        and _SIGNATURE.fullmatch(signature)
    )
    if not valid:
        raise CredentialError(Detail.MALFORMED_CREDENTIALS)
    return HmacFields(values["client_id"], timestamp, nonce, signature.lower())
