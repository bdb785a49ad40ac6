from __future__ import annotations

from typing import Any

from core.commands import GatekeeperCommand
from webhooks.services import reencrypt_secrets


class Command(GatekeeperCommand):
    help = (
        "Seal every webhook signing secret again with the first key in "
        "GATEKEEPER_SECRET_KEYS (run it beside reencrypt_secrets when rotating that key)."
    )
    supports_dry_run = True

    def run(self, *args: Any, **options: Any) -> None:
        count = reencrypt_secrets(actor=self.actor)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} endpoint secret(s)."))
