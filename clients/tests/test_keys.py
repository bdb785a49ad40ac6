from __future__ import annotations

import hashlib
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients import keys

NEW_KEY = re.compile(r"gk_([a-z0-9]{8})_[A-Za-z0-9]{32}")
IMPORTABLE = [chr(code) for code in range(0x21, 0x7F)]


def test_generated_key_has_the_recognisable_shape_and_matching_parts():
    plaintext, prefix, digest = keys.generate()
    match = NEW_KEY.fullmatch(plaintext)
    assert match is not None
    assert match.group(1) == prefix
    assert digest == keys.digest(plaintext)


def test_generated_keys_do_not_repeat():
    generated = [keys.generate() for _ in range(500)]
    assert len({plaintext for plaintext, _, _ in generated}) == 500
    assert len({prefix for _, prefix, _ in generated}) == 500


def test_generated_secret_carries_at_least_128_random_bits():
    plaintext, _, _ = keys.generate()
    secret = plaintext.rpartition("_")[2]
    alphabet = string.ascii_letters + string.digits
    assert set(secret) <= set(alphabet)
    assert len(secret) * (len(alphabet).bit_length() - 1) >= 128


def test_digest_names_its_algorithm_and_is_sha256_of_the_key():
    expected = hashlib.sha256(b"legacy-key-123").hexdigest()
    assert keys.digest("legacy-key-123") == f"sha256${expected}"


def test_digest_tells_keys_apart_by_every_character():
    assert keys.digest("legacy-key-123") != keys.digest("legacy-key-124")
    assert keys.digest("abcdefgh") != keys.digest("ABCDEFGH")


@pytest.mark.parametrize(
    ("plaintext", "shown"),
    [
        ("gk_ab12cd34_" + "A1" * 16, "gk_ab12cd34"),
        ("legacy-key-0123456789", "lega"),
        ("gk_AB12CD34_" + "A1" * 16, "gk_A"),  # upper-case prefix: not our format
        ("gk_ab12cd34_" + "A1" * 15, "gk_a"),  # secret too short
        ("gk_ab12cd34_" + "A1" * 16 + "-", "gk_a"),  # trailing junk
        ("gk_ab12cd3_" + "A1" * 16, "gk_a"),  # prefix too short
        ("xx_ab12cd34_" + "A1" * 16, "xx_a"),
    ],
)
def test_display_prefix_shows_our_prefix_or_only_four_characters_of_a_legacy_key(plaintext, shown):
    assert keys.display_prefix(plaintext) == shown


@given(st.text(alphabet=IMPORTABLE, min_size=keys.SHORT_KEY_LENGTH, max_size=200))
def test_display_prefix_of_a_long_legacy_key_reveals_at_most_four_characters(plaintext):
    shown = keys.display_prefix(plaintext)
    assert plaintext.startswith(shown)
    if keys.parse_prefix(plaintext) is None:
        assert len(shown) <= keys.LEGACY_DISPLAY_LENGTH


@given(
    st.one_of(
        st.builds(lambda _: keys.generate()[0], st.integers()),
        st.from_regex(r"gk_[a-z0-9_]{6,10}_[A-Za-z0-9_-]{30,34}", fullmatch=True),
        st.text(max_size=60),
    )
)
def test_parse_prefix_accepts_exactly_the_gk_format(plaintext):
    match = NEW_KEY.fullmatch(plaintext)
    assert keys.parse_prefix(plaintext) == (match.group(1) if match else None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("short12", "at least 8"),
        ("has a space", "printable ASCII"),
        ("tab\tinside-key", "printable ASCII"),
        ("line-break\nkey", "printable ASCII"),
        ("trailing-newline\n", "printable ASCII"),
        ("ключ-ключ-ключ", "printable ASCII"),
        ("nul\x00character", "printable ASCII"),
        ("x" * 513, "at most 512"),
    ],
)
def test_import_rejects_values_that_cannot_be_a_key_without_echoing_them(value, message):
    with pytest.raises(ValueError, match=message) as excinfo:
        keys.check_importable(value)
    if value:
        assert value not in str(excinfo.value)


@pytest.mark.parametrize(
    "value",
    ["abcdefgh", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", "x" * 512, "gk_ab12cd34_" + "A1" * 16],
)
def test_import_accepts_any_printable_ascii_key_of_a_sane_length(value):
    keys.check_importable(value)


@given(st.text(max_size=600))
def test_import_accepts_exactly_the_printable_ascii_values_of_8_to_512_characters(value):
    acceptable = 8 <= len(value) <= 512 and all(ch in IMPORTABLE for ch in value)
    try:
        keys.check_importable(value)
    except ValueError:
        assert not acceptable
    else:
        assert acceptable
