"""Every change to clients and credentials: atomic, audited, and the only place secrets are made.

The plaintext of a new key or secret exists only in the `IssuedSecret` these functions return.
Audit rows name a credential by kind, display prefix, label and expiry; never by its plaintext,
digest or sealed secret. (`clients.py` and `credentials.py`; the names are here.)
"""

from __future__ import annotations

from clients.services.clients import (
    NewClient,
    create_client,
    create_clients,
    delete_client,
    get_client,
    set_client_status,
    update_client,
)
from clients.services.credentials import (
    IssuedSecret,
    NewCredential,
    get_credential,
    issue_api_key,
    issue_credentials,
    issue_hmac_secret,
    reencrypt_hmac_secrets,
    revoke_credential,
    rotate_credentials,
)

__all__ = [
    "IssuedSecret",
    "NewClient",
    "NewCredential",
    "create_client",
    "create_clients",
    "delete_client",
    "get_client",
    "get_credential",
    "issue_api_key",
    "issue_credentials",
    "issue_hmac_secret",
    "reencrypt_hmac_secrets",
    "revoke_credential",
    "rotate_credentials",
    "set_client_status",
    "update_client",
]
