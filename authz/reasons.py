"""Decision reasons (design §5): stable strings used in logs, audit rows, metrics and headers.

The first ten keep the seed's spelling. `Detail` refines a denial in the audit trail and the
log only; it is never sent to the client, so a caller probing keys learns nothing from it.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    NO_AUTH_REQUIRED = "no_auth_required"
    AUTHENTICATED = "authenticated"
    NO_ROUTE_MATCH = "no_route_match"
    METHOD_NOT_CONFIGURED = "method_not_configured"
    INVALID_CREDENTIALS = "invalid_credentials"
    CLIENT_SUSPENDED = "client_suspended"
    CLIENT_REVOKED = "client_revoked"
    NO_PERMISSION = "no_permission"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
    MALFORMED_REQUEST = "malformed_request"

    @property
    def allows(self) -> bool:
        return self in (Reason.NO_AUTH_REQUIRED, Reason.AUTHENTICATED)

    @property
    def status(self) -> int:
        """The status at /authz (nginx): only 200, 401 and 403 — anything else becomes a 500."""
        if self.allows:
            return 200
        if self is Reason.INVALID_CREDENTIALS:
            return 401
        return 403


class Detail(enum.StrEnum):
    """Why a request was denied, in more words than the client is told."""

    MISSING_CREDENTIALS = "missing_credentials"
    UNKNOWN_CREDENTIAL = "unknown_credential"
    EXPIRED_CREDENTIAL = "expired_credential"
    REVOKED_CREDENTIAL = "revoked_credential"
    WRONG_AUTH_TYPE = "wrong_auth_type"
    INVALID_SIGNATURE = "invalid_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    REPLAYED_NONCE = "replayed_nonce"
    BODY_UNAVAILABLE = "body_unavailable"
    CONFLICTING_CREDENTIALS = "conflicting_credentials"
    MALFORMED_CREDENTIALS = "malformed_credentials"
    # malformed_request details (not in the design's 401 list; they say which rule fired)
    UNTRUSTED_PEER = "untrusted_peer"
    MISSING_HEADER = "missing_header"
    DUPLICATE_HEADER = "duplicate_header"
    BAD_HOST = "bad_host"
    BAD_TARGET = "bad_target"
    AMBIGUOUS_PATH = "ambiguous_path"
    BAD_METHOD = "bad_method"
