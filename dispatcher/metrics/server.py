"""The Prometheus endpoint of workers and beat: ``http://<metrics_address>:<metrics_port>/metrics``.

Workers run their tasks in threads of one process (``-P threads``), so this process's registry holds
all of their counts. Beat adds the store's state (``StoreCollector``).
"""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY, start_http_server

from dispatcher.metrics.store import StoreCollector
from dispatcher.settings import Settings
from dispatcher.store import Store

log = logging.getLogger(__name__)


def serve_metrics(settings: Settings, *, with_store: bool) -> bool:
    """Serve this process's metrics (and, ``with_store``, the store's) in a daemon thread when
    ``metrics_port`` is set; returns whether it does."""
    if not settings.metrics_port:
        return False
    if with_store:
        REGISTRY.register(StoreCollector(Store.from_settings(settings)))
    start_http_server(settings.metrics_port, addr=settings.metrics_address, registry=REGISTRY)
    log.info("metrics on http://%s:%d/metrics", settings.metrics_address, settings.metrics_port)
    return True
