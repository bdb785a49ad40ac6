"""The delivery worker behind `manage.py deliver_webhooks`: a loop that claims due deliveries
and sends them on a few threads, plus the housekeeping that needs no receiver (queue metrics,
`credential.expiring`).

Each delivery is settled as soon as its attempt ends, so a worker killed outright leaves only
the attempts in flight to be taken again (after their lease). A graceful stop (SIGTERM) takes
no new work and waits for the attempts in flight, each bounded by the timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from webhooks import delivery, expiring, metrics
from webhooks.models import Delivery

log = logging.getLogger(__name__)

QUEUE_REPORT_EVERY = 5.0
EXPIRY_SCAN_EVERY = 60.0


@dataclass(frozen=True)
class Config:
    concurrency: int
    poll: float
    timeout: float
    schedule: tuple[int, ...]
    expiring_days: int

    @classmethod
    def from_settings(cls) -> Config:
        return cls(
            concurrency=settings.GATEKEEPER_WEBHOOK_CONCURRENCY,
            poll=settings.GATEKEEPER_WEBHOOK_POLL_SECONDS,
            timeout=settings.GATEKEEPER_WEBHOOK_TIMEOUT,
            schedule=tuple(settings.GATEKEEPER_WEBHOOK_RETRY_SCHEDULE),
            expiring_days=settings.GATEKEEPER_WEBHOOK_EXPIRING_DAYS,
        )


def report_queue() -> None:
    """Set the queue gauges from the database (deliveries to active endpoints only: a
    disabled endpoint's waiting deliveries are not the worker's backlog)."""
    now = timezone.now()
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING, endpoint__active=True)
    found = pending.aggregate(
        depth=Count("pk"),
        oldest=Min("queued_at"),
        due=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now)),
    )
    oldest = (now - found["oldest"]).total_seconds() if found["oldest"] else 0.0
    overdue = (now - found["due"]).total_seconds() if found["due"] else 0.0
    metrics.report_queue(found["depth"], max(oldest, 0.0), max(overdue, 0.0))


class Worker:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._next_report = 0.0
        self._next_scan = 0.0

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Deliver until `stop` is set (or, with `once`, until nothing is due)."""
        size = self.config.concurrency
        in_flight: dict[Future[None], Delivery] = {}
        with ThreadPoolExecutor(size, thread_name_prefix="gk-webhook") as pool:
            while not stop.is_set():
                self._housekeeping()
                claimed = self._claim(size - len(in_flight))
                for item in claimed:
                    in_flight[pool.submit(self._deliver, item)] = item
                if not in_flight:
                    if once:
                        break
                    stop.wait(self.config.poll)
                    continue
                done, _ = wait(in_flight, timeout=self.config.poll, return_when=FIRST_COMPLETED)
                for future in done:
                    in_flight.pop(future)
            if in_flight:
                log.info("webhook worker stopping: waiting for %d attempt(s)", len(in_flight))
                wait(in_flight, timeout=self.config.timeout + delivery.LEASE_MARGIN)
        self._housekeeping(force=True)
        connection.close()

    def _claim(self, free: int) -> list[Delivery]:
        if free <= 0:
            return []
        try:
            return delivery.claim(free)
        except Exception as exc:
            log.warning("webhook deliveries cannot be claimed (%s)", type(exc).__name__)
            close_old_connections()
            connection.close()
            return []

    def _deliver(self, item: Delivery) -> None:
        """On a sending thread: one attempt and its outcome."""
        try:
            attempt = delivery.deliver(
                item, timeout=self.config.timeout, schedule=self.config.schedule
            )
        except Exception:
            # The delivery stays claimed until its lease ends, then it is tried again.
            log.exception("webhook delivery %s could not be settled", item.pk)
            return
        finally:
            close_old_connections()
        if attempt is None:
            return
        log.info(
            "webhook %s %s to %s: %s%s (attempt %d)",
            item.event.type,
            item.event.message_id,
            item.endpoint.name,
            attempt.outcome,
            f" {attempt.status}" if attempt.status is not None else "",
            item.attempts,
            extra={"error": attempt.error} if attempt.error else None,
        )

    def _housekeeping(self, *, force: bool = False) -> None:
        now = time.monotonic()
        try:
            if force or now >= self._next_scan:
                self._next_scan = now + EXPIRY_SCAN_EVERY
                expiring.scan(now=timezone.now(), days=self.config.expiring_days)
            if force or now >= self._next_report:
                self._next_report = now + QUEUE_REPORT_EVERY
                report_queue()
        except Exception as exc:
            log.warning("webhook housekeeping failed (%s)", type(exc).__name__)
            connection.close()
