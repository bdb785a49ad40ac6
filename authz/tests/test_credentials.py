"""Design §6: which credential a request presents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.credentials import CredentialError, extract, parse_hmac
from authz.reasons import Detail

SIG = "a" * 64
HMAC = f'HMAC client_id="c1",timestamp="1700000000",nonce="n1",signature="{SIG}"'


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "query", "key"),
    [
        ("Bearer k1", None, None, "k1"),
        ("bearer k1", None, None, "k1"),
        ("BEARER   k1", None, None, "k1"),
        ("ApiKey k1", None, None, "k1"),
        ("apikey k1", None, None, "k1"),
        ("k1", None, None, "k1"),
        (None, "k1", None, "k1"),
        (None, "  k1 ", None, "k1"),
        (None, None, "api_key=k1", "k1"),
        (None, None, "a=1&api_key=k1&b=2", "k1"),
        (None, None, "api%5Fkey=k1", "k1"),
        (None, None, "api_key=k%2B1", "k+1"),
        ("Bearer k1", "k1", "api_key=k1", "k1"),
        (None, None, "api_key=k1&api_key=k1", "k1"),
        ("Basic dXNlcjpwYXNz", "k1", None, "k1"),
        ("Bearer", None, None, None),
        ("Bearer ", None, None, None),
        ("Basic", None, None, None),
        ("Basic dXNlcjpwYXNz", None, None, None),
        ("Digest username=x", None, None, None),
        ("Basic\tdXNlcjpwYXNz", None, None, None),
        (None, "", None, None),
        (None, "   ", None, None),
        (None, None, "api_key=", None),
        (None, None, "api_key", None),
        (None, None, "x=api_key=k1", None),
        (None, None, "apikey=k1", None),
    ],
)
def test_api_keys_are_found(authorization, x_api_key, query, key):
    assert extract(authorization, x_api_key, query, ["api_key"]).api_key == key


def test_query_parameter_names_are_configurable():
    assert extract(None, None, "token=k1", ["token"]).api_key == "k1"
    assert extract(None, None, "api_key=k1", ["token"]).api_key is None


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "query"),
    [
        ("Bearer k1", "k2", None),
        ("Bearer k1", None, "api_key=k2"),
        (None, "k1", "api_key=k2"),
        (None, None, "api_key=k1&api_key=k2"),
        (HMAC, "k1", None),
        (HMAC, None, "api_key=k1"),
    ],
)
def test_two_different_credentials_conflict(authorization, x_api_key, query):
    with pytest.raises(CredentialError) as info:
        extract(authorization, x_api_key, query, ["api_key"])
    assert info.value.detail is Detail.CONFLICTING_CREDENTIALS


@pytest.mark.parametrize(
    "header",
    [
        HMAC,
        HMAC.replace("HMAC", "hmac"),
        f'HMAC client_id = "c1", timestamp="1700000000",  nonce="n1",signature="{SIG.upper()}"',
        f'HMAC signature="{SIG}",nonce="n1",timestamp="1700000000",client_id="c1"',
    ],
)
def test_hmac_headers_parse(header):
    fields = extract(header, None, None, ()).hmac
    assert (fields.client_id, fields.timestamp, fields.nonce) == ("c1", "1700000000", "n1")
    assert fields.signature == SIG


@pytest.mark.parametrize(
    "params",
    [
        "",
        'client_id="c1",timestamp="1700000000",nonce="n1"',
        f'client_id="c1",timestamp="1700000000",nonce="n1",signature="{SIG}",extra="x"',
        f'client_id="c1",client_id="c2",timestamp="1700000000",nonce="n1",signature="{SIG}"',
        f'client_id="c1",timestamp="17e8",nonce="n1",signature="{SIG}"',
        f'client_id="c1",timestamp="",nonce="n1",signature="{SIG}"',
        f'client_id="",timestamp="1",nonce="n1",signature="{SIG}"',
        f'client_id="c1",timestamp="1",nonce="",signature="{SIG}"',
        f'client_id="c1",timestamp="1",nonce="n 1",signature="{SIG}"',
        'client_id="c1",timestamp="1",nonce="n1",signature="abc"',
        f'client_id="c1",timestamp="1",nonce="n1",signature="{"g" * 64}"',
        f'client_id="c1",timestamp="1",nonce="n1",signature="{SIG}a"',
        f"client_id=c1,timestamp=1,nonce=n1,signature={SIG}",
        f'\tclient_id="c1",timestamp="1",nonce="n1",signature="{SIG}"',  # RFC 9110: spaces only
        f'client_id="c1";timestamp="1";nonce="n1";signature="{SIG}"',
    ],
)
def test_malformed_hmac_headers_are_refused_not_read_as_keys(params):
    with pytest.raises(CredentialError) as info:
        extract(
            f"HMAC {params}".rstrip() if not params.startswith("\t") else f"HMAC{params}",
            None,
            None,
            (),
        )
    assert info.value.detail is Detail.MALFORMED_CREDENTIALS


@given(st.text(max_size=120))
def test_the_hmac_parser_never_crashes(params):
    try:
        fields = parse_hmac(params)
    except CredentialError as exc:
        detail = exc.detail
    else:
        detail = None
        assert len(fields.signature) == 64
    assert detail in (None, Detail.MALFORMED_CREDENTIALS)


@given(
    st.one_of(st.none(), st.text(max_size=40)),
    st.one_of(st.none(), st.text(max_size=20)),
    st.text(max_size=40),
)
def test_extraction_never_crashes_and_finds_at_most_one(authorization, x_api_key, query):
    try:
        presented = extract(authorization, x_api_key, query, ["api_key"])
    except CredentialError:
        return
    assert presented.api_key is None or presented.hmac is None


def test_a_key_never_shows_in_repr():
    presented = extract("Bearer gk_secretprefix_secretsecret", None, None, ())
    assert "secret" not in repr(presented)


@pytest.mark.parametrize("header", ["Bearer\tk1", "ApiKey\tk1"])
def test_a_tab_after_our_scheme_is_malformed_not_a_bare_key(header):
    with pytest.raises(CredentialError) as info:
        extract(header, None, None, ())
    assert info.value.detail is Detail.MALFORMED_CREDENTIALS
