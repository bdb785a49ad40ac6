"""The audit actions webhooks write, named once (style rule 11)."""

from __future__ import annotations

ENDPOINT_CREATED = "webhook_endpoint.created"
ENDPOINT_UPDATED = "webhook_endpoint.updated"
ENDPOINT_SECRET_ROTATED = "webhook_endpoint.secret_rotated"
ENDPOINT_DISABLED = "webhook_endpoint.disabled"
ENDPOINT_ENABLED = "webhook_endpoint.enabled"
ENDPOINT_DELETED = "webhook_endpoint.deleted"
ENDPOINT_SECRETS_REENCRYPTED = "webhook_endpoint.secrets_reencrypted"
DELIVERIES_REDELIVERED = "webhook_delivery.redelivered"
TEST_SENT = "webhook.test_sent"
PRUNED = "webhook_delivery.pruned"
