"""Design §4: what a path, host and method normalise to, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.normalize import Malformed, Target, check_method, normalize_host, normalize_target
from authz.reasons import Detail

BAD_TARGET = Detail.BAD_TARGET
AMBIGUOUS = Detail.AMBIGUOUS_PATH


@pytest.mark.parametrize(
    ("raw", "path", "query"),
    [
        ("/api/users/me", "/api/users/me", None),
        ("/api/users/me?x=1", "/api/users/me", "x=1"),
        ("/api/x?", "/api/x", ""),
        ("/", "/", None),
        ("//api//x", "/api/x", None),
        ("/api/%61dmin", "/api/admin", None),
        ("/api/%7Euser/%2D%2e%5F", "/api/~user/-._", None),
        ("/api/caf%c3%a9", "/api/caf%C3%A9", None),
        ("/api/x%20y", "/api/x%20y", None),
        ("/api/x%3Fy", "/api/x%3Fy", None),
        ("/api/x%23y", "/api/x%23y", None),
        ("/api/export%3Aall", "/api/export:all", None),
        ("/api/export%3aall", "/api/export:all", None),
        ("/api/tag%2Bprivate", "/api/tag+private", None),
        ("/api/list%5B0%5D", "/api/list[0]", None),
        ("/api/%21%24%26%27%28%29%2A%2C%3D%40", "/api/!$&'()*,=@", None),
        ("/api/public/%2561dmin", "/api/public/%2561dmin", None),
        ("/api/.well-known/x", "/api/.well-known/x", None),
        ("/api/x..y/z.", "/api/x..y/z.", None),
        ("/api/x/", "/api/x/", None),
        ("/api/x?q=/api/public/../x;y#", None, None),
    ],
)
def test_targets_normalise(raw, path, query):
    if path is None:
        with pytest.raises(Malformed):
            normalize_target(raw)
        return
    assert normalize_target(raw) == Target(path, query)


def test_the_query_is_not_matched_but_kept_as_sent():
    assert normalize_target("/api/x?x=/api/public/&b=%2F..%2F") == Target(
        "/api/x", "x=/api/public/&b=%2F..%2F"
    )


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("", BAD_TARGET),
        ("*", BAD_TARGET),
        ("http://evil.test/api/x", BAD_TARGET),
        ("api/x", BAD_TARGET),
        ("/api/x y", BAD_TARGET),
        ("/api/x#frag", BAD_TARGET),
        ("/api/x\r\nX-Injected: 1", BAD_TARGET),
        ("/api/x\ty", BAD_TARGET),
        ("/api/x\x00", BAD_TARGET),
        ("/api/x\x7f", BAD_TARGET),
        ("/api/café", BAD_TARGET),
        ("/api/x?q=a b", BAD_TARGET),
        ("/api/public/..\\admin", AMBIGUOUS),
        ("/api/admin;x/secret", AMBIGUOUS),
        ("/api/public/..;/admin", AMBIGUOUS),
        ("/api/x%3bjsessionid=1", AMBIGUOUS),
        ("/api/x%3Bjsessionid=1", AMBIGUOUS),
        ("/api/x%", AMBIGUOUS),
        ("/api/x%2", AMBIGUOUS),
        ("/api/x%zz", AMBIGUOUS),
        ("/api/x%2Fy", AMBIGUOUS),
        ("/api/x%2fy", AMBIGUOUS),
        ("/api/public%2F..%2Fadmin", AMBIGUOUS),
        ("/api/x%5Cy", AMBIGUOUS),
        ("/api/x%00y", AMBIGUOUS),
        ("/api/x%0D%0AX-Injected:%20yes", AMBIGUOUS),
        ("/api/x%09", AMBIGUOUS),
        ("/api/x%7F", AMBIGUOUS),
        ("/api/x%FF", AMBIGUOUS),
        ("/api/%C0%AE%C0%AE/admin", AMBIGUOUS),
        ("/api/public/../admin", AMBIGUOUS),
        ("/api/public/./admin", AMBIGUOUS),
        ("/api/public/.../admin", AMBIGUOUS),
        ("/api/public/%2e%2e/admin", AMBIGUOUS),
        ("/api/public/%2E%2E/admin", AMBIGUOUS),
        ("/api/public/.%2e/admin", AMBIGUOUS),
        ("/api/x/..", AMBIGUOUS),
        ("/api/x/.", AMBIGUOUS),
        ("/api/x/%2e", AMBIGUOUS),
        ("/..", AMBIGUOUS),
        ("/api//..//admin", AMBIGUOUS),
    ],
)
def test_ambiguous_targets_are_refused(raw, detail):
    with pytest.raises(Malformed) as info:
        normalize_target(raw)
    assert info.value.detail is detail


PATH_ALPHABET = st.sampled_from(
    [
        "/",
        "a",
        "B",
        ".",
        "..",
        "%2e",
        "%2E",
        "%61",
        "%2F",
        "%25",
        "%c3%a9",
        "%C0",
        "~",
        "-",
        "_",
        "%20",
        ";",
        "\\",
    ]
)


@given(st.lists(PATH_ALPHABET, max_size=12).map(lambda parts: "/" + "".join(parts)))
def test_normalisation_is_idempotent_and_leaves_no_dot_or_empty_segment(raw):
    try:
        target = normalize_target(raw)
    except Malformed:
        return
    path = target.path
    assert normalize_target(path) == Target(path, None)
    assert "//" not in path
    segments = path.split("/")[1:]
    assert not any(segment and set(segment) == {"."} for segment in segments)
    assert "/./" not in path + "/"
    assert "/../" not in path + "/"


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("api.example.com", "api.example.com"),
        ("API.Example.COM", "api.example.com"),
        ("api.example.com:8443", "api.example.com"),
        ("api.example.com.", "api.example.com"),
        ("api.example.com.:8443", "api.example.com"),
        ("exa_mple.com", "exa_mple.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
        ("10.1.2.3", "10.1.2.3"),
        ("10.1.2.3:80", "10.1.2.3"),
        ("[::1]", "[::1]"),
        ("[::1]:8081", "[::1]"),
        ("[2001:DB8:0:0::1]", "[2001:db8::1]"),
        ("a.test:", "a.test"),
    ],
)
def test_hosts_normalise(raw, host):
    assert normalize_host(raw) == host


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ".",
        "..",
        ".example.com",
        "example..com",
        "example.com..",
        "evil.test, good.test",
        "evil.test,good.test",
        "exa mple.com",
        "user@example.com",
        "example.com/x",
        "bücher.example",
        "[1.2.3.4]",
        "[fe80::1%25eth0]",
        "[fe80::1%eth0]",
        "[::1",
        "[::1]x",
        "[::1]:80:80",
        "example.com:80:80",
        "example.com:http",
        "example.com:123456",
        "1.2.3",
        "127.1",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "0x7f000001",
        "10.0.0.0x1",
        "2130706433",
        "\u212aelvin.example",
        "256.1.1.1",
        "01.2.3.4",
        "a" * 64 + ".com",
        "example.com\r\nx: y",
        "example.com\x00",
    ],
)
def test_bad_hosts_are_refused(raw):
    with pytest.raises(Malformed) as info:
        normalize_host(raw)
    assert info.value.detail is Detail.BAD_HOST


@given(st.text(alphabet="abcXYZ019.-_:[]%@, ", max_size=20))
def test_host_normalisation_is_idempotent(raw):
    try:
        host = normalize_host(raw)
    except Malformed:
        return
    assert normalize_host(host) == host
    assert host == host.lower()
    assert not host.endswith(".")


@pytest.mark.parametrize("method", ["GET", "delete", "PROPFIND", "M-SEARCH"])
def test_methods_are_tokens_kept_as_sent(method):
    assert check_method(method) == method


@pytest.mark.parametrize("method", ["", "GET ", "G ET", "GET\r\n", "GÉT", "(GET)"])
def test_bad_methods_are_refused(method):
    with pytest.raises(Malformed):
        check_method(method)
