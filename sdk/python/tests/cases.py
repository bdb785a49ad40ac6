"""Requests that HTTP libraries rewrite before sending, shared by the requests and httpx tests."""

from __future__ import annotations

from gatekeeper_client import GatekeeperHmacAuth

CLIENT = "7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11"
SECRET = "q9Vh3xk2Zf8Lr0mT5wYbN1cE7sJ4pA6dG2uH0iK3oQ"
KEY = "gk_abcd1234_" + "k" * 32
AUTH = GatekeeperHmacAuth(CLIENT, SECRET)

# Raw UTF-8, spaces, lower-case escapes, brackets, a stray '%', an empty query, a fragment.
TARGETS = [
    "/v1/orders",
    "/v1/caf\u00e9/\u20ac?name=J\u00fcrgen",
    "/v1/na%c3%afve?q=%e2%9c%93",
    "/v1/a b?q=a b&r=1+1",
    "/v1/list[0]?filter[name]=x",
    "/v1/100%?discount=5%",
    "/v1/orders?",
    "/v1/orders?next=https://example.com/x?y=1&list=a,b;c&at=me@example.com",
    "/v1/x#fragment",
    "",
]
JSON_BODY = {"order": 7, "note": "ünïcode ✓"}
