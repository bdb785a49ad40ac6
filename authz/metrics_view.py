"""`/metrics` in the Prometheus text format, for the allowed networks or the bearer token.

Under gunicorn (PROMETHEUS_MULTIPROC_DIR set) the worker that takes the scrape merges every
worker's files, so counters are sums over all workers, living and dead; otherwise it serves
this process's registry, which django-prometheus's metrics share.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from authz.metrics import WithSnapshotAge
from core.networks import parse_networks, peer_in

log = logging.getLogger(__name__)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _permitted(request):
        log.info("metrics refused for peer %s", request.META.get("REMOTE_ADDR", ""))
        return HttpResponse(status=403)
    served = CollectorRegistry(auto_describe=False)
    served.register(WithSnapshotAge(_source()))
    return HttpResponse(generate_latest(served), content_type=CONTENT_TYPE_LATEST)


def _source() -> CollectorRegistry:
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return REGISTRY
    merged = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(merged, path=settings.PROMETHEUS_MULTIPROC_DIR)
    return merged


def _permitted(request: HttpRequest) -> bool:
    token = settings.GATEKEEPER_METRICS_TOKEN
    if token:
        scheme, _, presented = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return True
    allowed = parse_networks(settings.GATEKEEPER_METRICS_ALLOWED)
    return peer_in(request.META.get("REMOTE_ADDR", ""), allowed)
