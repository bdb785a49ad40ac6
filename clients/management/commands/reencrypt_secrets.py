from __future__ import annotations

from typing import Any

from clients.services import REENCRYPT_BATCH, reencrypt_hmac_secrets
from core.commands import GatekeeperCommand


class Command(GatekeeperCommand):
    help = (
        "Seal every stored HMAC secret again with the first key in GATEKEEPER_SECRET_KEYS, in "
        "one transaction. Rotate keys by putting a new key first, keeping the old ones after "
        "it, running this, and then removing the old keys."
    )
    supports_dry_run = True

    def run(self, *args: Any, **options: Any) -> None:
        count = reencrypt_hmac_secrets(actor=self.actor, progress=self._progress)
        self.stdout.write(self.style.SUCCESS(f"{self.did('re-encrypt')} {count} HMAC secret(s)."))

    def _progress(self, done: int) -> None:
        if done % REENCRYPT_BATCH == 0:
            self.stdout.write(f"… {done} so far")
