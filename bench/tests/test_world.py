"""The requests the rows send (bench/world.py): what wrk is given is what Gatekeeper accepts."""

from __future__ import annotations

import pytest

from authz.credentials import parse_hmac
from authz.signatures import find_signer
from bench import world
from bench.world import Request


def test_signed_requests_verify_and_never_share_a_nonce():
    requests = list(world.signed_requests(500, run="r1", now=1_800_000_000))
    fields = [parse_hmac(dict(r.headers)["Authorization"].removeprefix("HMAC ")) for r in requests]
    assert len({f.nonce for f in fields}) == 500
    secret = world.HMAC_SECRET.encode()
    for request, signed in zip(requests, fields, strict=True):
        assert signed.client_id == world.CLIENT_ID
        assert find_signer([secret], signed, "GET", request.path, b"") == 0


def test_scene_keys_are_gatekeeper_keys_and_all_different():
    from clients.keys import parse_prefix

    numbers = [world.BENCH, world.LIMITED, *(world.mix_client(i) for i in range(world.MIX_KEYS))]
    keys = [world.scene_key(n) for n in numbers]
    assert len(set(keys)) == len(keys)
    assert all(parse_prefix(key) is not None for key in keys)


def test_dataset_requests_never_name_the_client_that_churns():
    requests = world.dataset_requests(10_000)
    churned = world.key_of(9999)
    assert len(requests) == 1000
    assert all(dict(r.headers)["Authorization"] != f"Bearer {churned}" for r in requests)


def test_a_request_line_is_tab_separated_and_refuses_line_breaks():
    assert Request("/a", (("X-A", "b c"),)).line() == "GET\t/a\tX-A: b c"
    with pytest.raises(ValueError, match="line break"):
        Request("/a", (("X-A", "b\r\nX-Injected: 1"),)).line()
