"""Audit actions written outside the config services, named once (style rule 11)."""

from __future__ import annotations

# django-axes locked a username or an address out of the admin login.
LOGIN_LOCKED_OUT = "login.locked_out"

# One row for a whole `apply_config`, with its counts (webhooks send it as config.applied).
CONFIG_APPLIED = "config.applied"
