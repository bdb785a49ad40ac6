"""API keys: the `gk_<prefix>_<secret>` format, generation, the digests we store, display prefixes.

Issuing a key and checking a presented key use this module only, so there is one definition of
what is stored and what is looked up.

Why unkeyed SHA-256 is enough for generated keys (the reasoning of drf-api-key's `crypto.py`): a
generated key carries 32 base62 characters from `secrets`, about 190 random bits. Slow, salted
password hashes exist because passwords are guessable; nobody can enumerate 2**128 candidates
against a stolen digest, fast hash or not, and a salt adds nothing when every input is already
unique and random. A fast digest also lets the decision path look a key up by equality instead
of running a deliberately slow hasher on every request.

Imported legacy keys are whatever the old system issued, and a short or guessable one could be
recovered from a leaked SHA-256 digest by brute force. So they are stored under a keyed hash,
HMAC-SHA-256 with a server-side secret (a "pepper", GATEKEEPER_KEY_PEPPERS) that lives in the
environment, not in the database: a stolen database alone no longer lets anyone test guesses.
The digest names its pepper (`hmac-sha256$<pepper id>$<hex>`), so peppers rotate like the
Fernet keys: the first one hashes new imports, every one is tried on lookup. Keys imported
before peppers existed keep their `sha256$` digests and keep working; re-issue them
(`rotate_credentials`) rather than keeping them for long.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import string

from django.conf import settings

from core.redaction import SHORTEST_SECRET

SCHEME = "gk"
ALGORITHM = "sha256"
PEPPERED_ALGORITHM = "hmac-sha256"
PEPPER_SETTING = "GATEKEEPER_KEY_PEPPERS"
# A pepper is a random server-side secret: at least this long (secrets.token_urlsafe(32) is 43).
PEPPER_MIN_LENGTH = 32
PREFIX_LENGTH = 8
SECRET_LENGTH = 32
# Imported keys: the floor keeps out obvious placeholders; the ceiling keeps headers sane.
IMPORT_MIN_LENGTH = SHORTEST_SECRET
IMPORT_MAX_LENGTH = 512
# How much of a legacy key the admin and the audit trail may show, and only of a key at least
# SHORT_KEY_LENGTH long: of a shorter one, no part at all.
LEGACY_DISPLAY_LENGTH = 4
# An imported key shorter than this is guessable enough to warn about when it is imported.
SHORT_KEY_LENGTH = 20
LEGACY_PREFIX = "legacy_"

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
    """What is stored for a generated key (and for keys imported before peppers): `sha256$<hex>`."""
    return f"{ALGORITHM}${hashlib.sha256(plaintext.encode()).hexdigest()}"


class NoPepper(ValueError):
    """A legacy key cannot be imported: no pepper is configured to hash it with."""


def peppered_digest(plaintext: str) -> str:
    """What is stored for an imported key: `hmac-sha256$<pepper id>$<hex>`, under the first
    pepper. Raises NoPepper when GATEKEEPER_KEY_PEPPERS is empty."""
    peppers = _peppers()
    if not peppers:
        raise NoPepper(
            f"Importing a legacy API key needs {PEPPER_SETTING} (a server-side secret the key "
            "is hashed with); set it, e.g. to the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'."
        )
    return _peppered(peppers[0], plaintext)


def lookup_digests(plaintext: str) -> tuple[str, ...]:
    """Every digest a presented key may be stored under: SHA-256, then one per pepper.

    The same work for any key, hit or miss, generated or legacy: a key's shape or a lookup's
    outcome must not show in the time a decision takes. Check each against the stored digests.
    """
    return (digest(plaintext), *(_peppered(pepper, plaintext) for pepper in _peppers()))


def pepper_problem(pepper: str) -> str | None:
    """Why `pepper` is not a usable pepper, or None. Never quotes the pepper."""
    if len(pepper) < PEPPER_MIN_LENGTH:
        return f"shorter than {PEPPER_MIN_LENGTH} characters"
    if not set(pepper) <= _IMPORTABLE:
        return "not printable ASCII without spaces"
    return None


def _peppers() -> list[str]:
    # Read when called (settings may change in tests and on reload); the work per pepper is cached.
    return list(getattr(settings, PEPPER_SETTING, None) or [])


def _peppered(pepper: str, plaintext: str) -> str:
    identifier, keyed = _pepper_state(pepper)
    mac = keyed.copy()
    mac.update(plaintext.encode())
    return f"{PEPPERED_ALGORITHM}${identifier}${mac.hexdigest()}"


@functools.lru_cache(maxsize=16)
def _pepper_state(pepper: str) -> tuple[str, hmac.HMAC]:
    """(id, an HMAC keyed with the pepper to copy per key): the key schedule is done once.

    The id names the pepper in digests: a hash of it (kept apart from key hashes by its label)
    cut to 8 hex digits, nothing a guess at a random 32-character pepper can usefully be
    checked against.
    """
    identifier = hashlib.sha256(b"gatekeeper key pepper id\0" + pepper.encode()).hexdigest()[:8]
    return identifier, hmac.new(pepper.encode(), digestmod=hashlib.sha256)


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
    """The public part shown in the admin and audit trail: `gk_<prefix>` for our keys; the
    first few characters of a long legacy key (never more, since its shape is unknown); for a
    short one, where every character counts, a random `legacy_<hex>` that reveals nothing."""
    prefix = parse_prefix(plaintext)
    if prefix is not None:
        return f"{SCHEME}_{prefix}"
    if len(plaintext) < SHORT_KEY_LENGTH:
        return f"{LEGACY_PREFIX}{secrets.token_hex(4)}"
    return plaintext[:LEGACY_DISPLAY_LENGTH]


def short_key_warning(plaintext: str, noun: str = "key") -> str | None:
    """A warning for an imported key (or `noun`) short enough to be guessed, or None."""
    if len(plaintext) >= SHORT_KEY_LENGTH:
        return None
    return (
        f"Warning: this {noun} is only {len(plaintext)} characters long and can be guessed; "
        "replace it with a generated one (rotate_credentials) as soon as its callers can switch."
    )


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
