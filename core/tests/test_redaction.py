from __future__ import annotations

import pytest

from core.redaction import REDACTED, mask_secret, redact_query


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/api/x", "/api/x"),
        ("/api/x?api_key=gk_abc_secret", f"/api/x?api_key={REDACTED}"),
        ("/api/x?a=1&api_key=s3cret&b=2", f"/api/x?a=1&api_key={REDACTED}&b=2"),
        ("/api/x?api%5Fkey=s3cret", f"/api/x?api%5Fkey={REDACTED}"),
        ("/api/x?api_key=one&api_key=two", f"/api/x?api_key={REDACTED}&api_key={REDACTED}"),
        ("/api/x?not_api_key=visible", "/api/x?not_api_key=visible"),
        ("/api/x?API_KEY=s3cret", f"/api/x?API_KEY={REDACTED}"),
        ("/api/x?Api%5FKey=s3cret", f"/api/x?Api%5FKey={REDACTED}"),
        ("/api/x?api_key", "/api/x?api_key"),
    ],
)
def test_query_credentials_are_redacted(target, expected):
    assert redact_query(target, ["api_key"]) == expected


def test_mask_secret_keeps_only_the_public_prefix():
    assert mask_secret("gk_ab12cd34_verysecretpart", keep=11) == f"gk_ab12cd34…{REDACTED}"
    assert mask_secret("short", keep=11) == REDACTED
    assert "secret" not in mask_secret("secret-value")
