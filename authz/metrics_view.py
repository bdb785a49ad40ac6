"""`/metrics` in the Prometheus text format, for the allowed networks or the bearer token.

Each server role (decisions, admin) runs its workers in prometheus_client's multiprocess
mode: every worker writes its values to files in PROMETHEUS_MULTIPROC_DIR, and the worker that
takes the scrape merges them, so counters are sums over all workers, living and dead. Other
processes that report through a server's `/metrics` (the webhook worker, through the admin's)
write to a directory of their own inside that one, merged too; the server's start empties
only its own files. Gauges
of a worker that died without a goodbye (killed, crashed) are dropped at scrape time, because
the servers cannot always tell us when a worker exits. Outside multiprocess mode (tests) this
process's registry is served.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from authz.metrics import WithSnapshotAge
from core.networks import parse_networks, peer_in

log = logging.getLogger(__name__)
# Live-gauge files carry the writer's pid: gauge_livesum_1234.db
_LIVE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def permitted(peer: str, authorization: str) -> bool:
    token = settings.GATEKEEPER_METRICS_TOKEN
    if token:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return True
    return peer_in(peer, parse_networks(settings.GATEKEEPER_METRICS_ALLOWED))


def render() -> bytes:
    served = CollectorRegistry(auto_describe=False)
    served.register(WithSnapshotAge(_source()))
    return generate_latest(served)


def _source() -> CollectorRegistry:
    directory = settings.PROMETHEUS_MULTIPROC_DIR
    if not directory:
        return REGISTRY
    merged = CollectorRegistry(auto_describe=False)
    reporters = sorted(path for path in Path(directory).iterdir() if path.is_dir())
    for path in (Path(directory), *reporters):
        _forget_dead_workers(path)
        MultiProcessCollector(merged, path=str(path))
    return merged


def _forget_dead_workers(directory: Path) -> None:
    pids = {int(m[1]) for p in directory.glob("gauge_live*.db") if (m := _LIVE_FILE.match(p.name))}
    for pid in pids:
        if not _alive(pid):
            mark_process_dead(pid, str(directory))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def metrics(request: HttpRequest) -> HttpResponse:
    """The admin server's /metrics (its own workers: django-prometheus, the admin's work)."""
    peer = request.META.get("REMOTE_ADDR", "")
    if not permitted(peer, request.META.get("HTTP_AUTHORIZATION", "")):
        log.info("metrics refused for peer %s", peer)
        return HttpResponse(status=403)
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
