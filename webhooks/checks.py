"""Deployment checks for webhooks (stable ids; see `manage.py check`)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from webhooks.destinations import METADATA_ADDRESSES, allowed_networks


@checks.register(checks.Tags.security)
def check_allowed_networks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An allowed network that holds a cloud metadata address lets anyone who may configure an
    endpoint make Gatekeeper fetch from it (the response's first bytes are in the delivery
    log): say so, loudly."""
    problems = []
    for network in allowed_networks():
        exposed = sorted(
            str(a) for a in METADATA_ADDRESSES if a.version == network.version and a in network
        )
        if exposed:
            problems.append(
                checks.Warning(
                    f"GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS allows {network}, which holds the "
                    f"cloud metadata address {', '.join(exposed)}.",
                    hint="Allow a narrower network that leaves the metadata address out.",
                    id="webhooks.W001",
                )
            )
    return problems
