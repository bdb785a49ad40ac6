"""The shared HMAC test vectors (`sdk/testdata/vectors.json`), made by Gatekeeper's own verifier.

Every client library checks every vector: for the method, target, body, timestamp, nonce,
client id and secret it must produce exactly this signature and this Authorization header.
Each vector is verified here the way `/authz` verifies a request (the target passes
`normalize_target`, the header parses with `credentials.extract`, `find_signer` accepts the
signature), so no vector is something Gatekeeper would refuse.

    python -m sdk.vectors           # rewrite the file
    python -m sdk.vectors --check   # exit 1 if the file differs from what this makes

`sdk/tests/test_vectors.py` runs the check in Gatekeeper's suite, so the file cannot drift.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from authz.credentials import extract
from authz.normalize import normalize_target
from authz.signatures import canonical, find_signer, sign

PATH = Path(__file__).resolve().parent / "testdata" / "vectors.json"

CLIENT_ID = "7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11"
SECRET = "q9Vh3xk2Zf8Lr0mT5wYbN1cE7sJ4pA6dG2uH0iK3oQ"  # the shape `issue_hmac_secret` makes
TIMESTAMP = 1767225600  # 2026-01-01T00:00:00Z
# Every printable ASCII character a nonce may hold: not space, '"' (ends the value) or ','
# (separates the header's fields).
NONCE_CHARACTERS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",')

ABOUT = (
    "HMAC request signatures as Gatekeeper verifies them (authz/signatures.py), made by "
    "`python -m sdk.vectors`; do not edit by hand. signature = hex(HMAC-SHA256(secret as "
    "UTF-8, method + '\\n' + target + '\\n' + timestamp + '\\n' + nonce + '\\n' + body)). "
    "`target` is the request target exactly as it goes on the wire (path and query, "
    "percent-encoded as sent, never re-encoded); bodies are bytes (base64 here). A raw "
    "non-ASCII byte in a target is refused by Gatekeeper as malformed, so every target here "
    "is what a real HTTP client sends: UTF-8 percent-encoded."
)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    target: str
    body: bytes = b""
    nonce: str = "0f8c2d4e6a1b3c5d7e9f0a2b4c6d8e0f"
    secret: str = SECRET
    timestamp: int = TIMESTAMP


CASES = (
    Case("get-plain-path", "GET", "/api/data/orders"),
    Case(
        "get-query-with-reserved-characters",
        "GET",
        "/api/data/search?q=a%20b%26c&next=https%3A%2F%2Fexample.com%2Fx%3Fy%3D1"
        "&path=/a/b?c=d&list=a,b;c&at=me@example.com&sub=!$'()*+&eq==&plus=1+1%2B1&empty=&flag",
    ),
    Case(
        "get-utf8-path-percent-encoded",
        "GET",
        "/api/data/caf%C3%A9/%E2%82%AC?name=J%C3%BCrgen&emoji=%F0%9F%94%91",
    ),
    Case(
        "get-lower-case-escapes-signed-as-sent",
        "GET",
        "/api/data/na%c3%afve?q=%e2%9c%93",
        nonce="c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6",
    ),
    Case("get-empty-query-kept", "GET", "/api/data/orders?", nonce="empty-query-1"),
    Case("head-no-body", "HEAD", "/api/data/orders/7"),
    Case(
        "post-empty-body", "POST", "/signed/data/orders", nonce="5e4d3c2b1a09f8e7d6c5b4a392817060"
    ),
    Case(
        "post-json-body",
        "POST",
        "/signed/data/orders?batch=1",
        json.dumps(
            {"order": 7, "items": [{"sku": "A-1", "qty": 2}], "note": "ünïcode ✓"},
            ensure_ascii=False,
        ).encode("utf-8"),
        nonce="3b9f6a0e-8c1d-4f2a-9e7b-5d4c3a2b1f0e",
    ),
    Case(
        "put-binary-body",
        "PUT",
        "/signed/data/blobs/1",
        bytes(range(256)) + b"\xff\xfe\x00\x80",
        nonce="b1n4ry",
    ),
    Case(
        "patch-text-body-with-line-breaks",
        "PATCH",
        "/signed/data/notes/3",
        b"line one\r\nline two\n\nline four\r\n",
        nonce="line-breaks-42",
    ),
    Case(
        "delete-non-ascii-secret",
        "DELETE",
        "/api/data/orders/7",
        secret="pässwörd-legacy-ünïcode-s3cret",
        nonce="legacy-secret-7",
    ),
    Case(
        "post-nonce-with-every-allowed-character",
        "POST",
        "/signed/data/orders",
        b"{}",
        nonce=(NONCE_CHARACTERS * 2)[:128],
        timestamp=TIMESTAMP + 299,
    ),
)


def header(client_id: str, timestamp: int, nonce: str, signature: str) -> str:
    """The Authorization header, spelled as the byteforge-hmac client spells it."""
    return (
        f'HMAC client_id="{client_id}",timestamp="{timestamp}",'
        f'nonce="{nonce}",signature="{signature}"'
    )


def vector(case: Case) -> dict[str, object]:
    secret = case.secret.encode("utf-8")
    timestamp = str(case.timestamp)
    signature = sign(secret, case.method, case.target, timestamp, case.nonce, case.body)
    authorization = header(CLIENT_ID, case.timestamp, case.nonce, signature)
    _check(case, secret, authorization)
    message = canonical(case.method, case.target, timestamp, case.nonce, case.body)
    return {
        "name": case.name,
        "method": case.method,
        "target": case.target,
        "body_b64": base64.b64encode(case.body).decode("ascii"),
        "timestamp": case.timestamp,
        "nonce": case.nonce,
        "client_id": CLIENT_ID,
        "secret": case.secret,
        "string_to_sign_b64": base64.b64encode(message).decode("ascii"),
        "signature": signature,
        "authorization": authorization,
    }


def _check(case: Case, secret: bytes, authorization: str) -> None:
    """What `/authz` does with the request, short of the clock and the replay store."""
    normalize_target(case.target)
    fields = extract(authorization, None, None, ()).hmac
    if fields is None or fields.client_id != CLIENT_ID:
        raise ValueError(f"{case.name}: the header does not parse as HMAC")
    if find_signer([secret], fields, case.method, case.target, case.body) != 0:
        raise ValueError(f"{case.name}: Gatekeeper does not accept the signature")


def render() -> str:
    document = {"about": ABOUT, "vectors": [vector(case) for case in CASES]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write or check sdk/testdata/vectors.json.")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file is not what this makes"
    )
    args = parser.parse_args(argv)
    made = render()
    if args.check:
        current = PATH.read_text(encoding="utf-8") if PATH.exists() else ""
        if current != made:
            print(f"{PATH} is out of date: run python -m sdk.vectors", file=sys.stderr)
            return 1
        print(f"{PATH} is up to date ({len(CASES)} vectors)")
        return 0
    PATH.write_text(made, encoding="utf-8")
    print(f"wrote {len(CASES)} vectors to {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
