"""What the audit trail announces besides each row's own `post_save`.

`record` saves one row and Django sends `post_save` for it. `record_many` (the services' bulk
forms: thousands of rows in a few INSERTs) sends `recorded_many` once with every row, so that
what hangs off the audit trail (webhooks) can look up what it needs once per batch rather
than once per row.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `rows`: the AuditEvent rows just written by one `record_many` call.
recorded_many = Signal()
