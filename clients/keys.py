"""API keys: the `gk_<prefix>_<secret>` format, generation, the digest we store, display prefixes.

Issuing a key and checking a presented key both call `digest()`, so there is one definition of
what is stored and what is looked up.

Why unkeyed SHA-256 is enough (the reasoning of drf-api-key's `crypto.py`): a generated key
carries 32 base62 characters from `secrets`, about 190 random bits. Slow, salted password
hashes exist because passwords are guessable; nobody can enumerate 2**128 candidates against a
stolen digest, fast hash or not, and a salt adds nothing when every input is already unique
and random. A fast digest also lets the decision path look a key up by equality instead of
running a deliberately slow hasher on every request.

The risk is imported legacy keys: they are whatever the old system issued, and a short or
guessable one can be recovered from a leaked digest by brute force. Re-issue those keys
(`rotate_credentials`) instead of keeping them for long.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from core.redaction import SHORTEST_SECRET

SCHEME = "gk"
ALGORITHM = "sha256"
PREFIX_LENGTH = 8
SECRET_LENGTH = 32
# Imported keys: the floor keeps out obvious placeholders; the ceiling keeps headers sane.
IMPORT_MIN_LENGTH = SHORTEST_SECRET
IMPORT_MAX_LENGTH = 512
# How much of a legacy key the admin and the audit trail may show.
LEGACY_DISPLAY_LENGTH = 4

_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_PREFIX_CHARS = frozenset(_PREFIX_ALPHABET)
_SECRET_CHARS = frozenset(_SECRET_ALPHABET)
# Printable ASCII without the space: what travels unchanged in a header or a query string.
_IMPORTABLE = frozenset(chr(code) for code in range(0x21, 0x7F))


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def generate() -> tuple[str, str, str]:
    """A new key: `(plaintext, prefix, digest)`. Show the plaintext once; store the digest."""
    prefix = _random(_PREFIX_ALPHABET, PREFIX_LENGTH)
    plaintext = f"{SCHEME}_{prefix}_{_random(_SECRET_ALPHABET, SECRET_LENGTH)}"
    return plaintext, prefix, digest(plaintext)


def digest(plaintext: str) -> str:
    """What is stored for a key and what a presented key is looked up by: `sha256$<hex>`."""
    return f"{ALGORITHM}${hashlib.sha256(plaintext.encode()).hexdigest()}"


def parse_prefix(plaintext: str) -> str | None:
    """The prefix of a key in the `gk_<prefix>_<secret>` format, None for any other shape."""
    scheme, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if (
        scheme == SCHEME
        and len(prefix) == PREFIX_LENGTH
        and set(prefix) <= _PREFIX_CHARS
        and len(secret) == SECRET_LENGTH
        and set(secret) <= _SECRET_CHARS
    ):
        return prefix
    return None


def display_prefix(plaintext: str) -> str:
    """The public part shown in the admin and audit trail: `gk_<prefix>` for our keys, the
    first few characters of a legacy key (never more, since its shape is unknown)."""
    prefix = parse_prefix(plaintext)
    if prefix is not None:
        return f"{SCHEME}_{prefix}"
    return plaintext[:LEGACY_DISPLAY_LENGTH]


def check_importable(value: str) -> None:
    """Raise ValueError unless `value` can be imported as a key or secret.

    The message never repeats the value: it may be a live credential.
    """
    if not value:
        raise ValueError("The value is empty.")
    if not set(value) <= _IMPORTABLE:
        raise ValueError("The value must be printable ASCII without spaces, tabs or line breaks.")
    if len(value) < IMPORT_MIN_LENGTH:
        raise ValueError(f"The value must be at least {IMPORT_MIN_LENGTH} characters long.")
    if len(value) > IMPORT_MAX_LENGTH:
        raise ValueError(f"The value must be at most {IMPORT_MAX_LENGTH} characters long.")
