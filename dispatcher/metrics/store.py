"""The store's state as Prometheus metrics, read from Redis at each scrape (``StoreCollector``).

One process should serve these (beat, which runs exactly once): every reader sees the same numbers,
so two would double them in a ``sum``. When Redis does not answer, the scrape still succeeds with
``dispatcher_store_up 0`` (and nothing else from here), so the failure shows as a metric, not a
scrape error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dispatcher.store import Store
from dispatcher.store.stats import MessageCount, StoreStatistics

log = logging.getLogger(__name__)

_MESSAGE = ("provider", "channel", "state")
_LANE = ("lane",)


class StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("dispatcher_store_up", "1 when the store's Redis answered this scrape.")
        try:
            statistics = self._store.statistics()
        except Exception as exc:  # any failure to read means "down"; the log says which kind
            log.warning("store metrics: Redis did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from store_metrics(statistics)


def store_metrics(statistics: StoreStatistics) -> Iterator[Metric]:
    """The metric families of one snapshot (pure: tested without Redis)."""
    yield _messages(
        GaugeMetricFamily(
            "dispatcher_messages_current",
            "Messages in each non-final state now (queued, scheduled, sending, submitted, sent).",
            labels=_MESSAGE,
        ),
        statistics.current,
    )
    yield _messages(
        CounterMetricFamily(
            "dispatcher_messages",
            "Messages that entered each state (final states included), since Redis last lost its data.",
            labels=_MESSAGE,
        ),
        statistics.entered,
    )
    depth = GaugeMetricFamily("dispatcher_lane_depth", "Messages waiting in each lane.", labels=_LANE)
    paused = GaugeMetricFamily(
        "dispatcher_lane_paused", "1 while the lane is paused (account error, 429, operator).", labels=_LANE
    )
    runners = GaugeMetricFamily(
        "dispatcher_lane_runners", "Dispatch tasks holding a lease on the lane.", labels=_LANE
    )
    for lane in statistics.lanes:
        depth.add_metric([lane.name], lane.depth)
        paused.add_metric([lane.name], 1 if lane.paused is not None else 0)
        runners.add_metric([lane.name], lane.runners)
    yield from (depth, paused, runners)
    for name, documentation, value in (
        ("retry_waiting", "Messages waiting for their retry time.", statistics.retry_waiting),
        ("scheduled_waiting", "Messages waiting for send_at or a window.", statistics.scheduled_waiting),
        ("batches_in_flight", "Batches taken and not yet settled.", statistics.batches_in_flight),
        ("early_callbacks", "Callbacks parked until their send is recorded.", statistics.early_callbacks),
        ("fallbacks_due", "RCS messages whose SMS fallback is pending.", statistics.fallbacks_due),
        ("webhooks_due", "Webhook deliveries waiting for their next attempt.", statistics.webhooks_due),
        (
            "redis_memory_used_bytes",
            "Memory the store's Redis uses (INFO used_memory).",
            statistics.memory_used_bytes,
        ),
        (
            "redis_memory_max_bytes",
            "The store's Redis maxmemory (0: no limit); at it every write is refused (intake: store_full).",
            statistics.memory_max_bytes,
        ),
    ):
        yield GaugeMetricFamily(f"dispatcher_{name}", documentation, value=value)


def _messages(family: GaugeMetricFamily | CounterMetricFamily, counts: Iterable[MessageCount]) -> Metric:
    for count in counts:
        family.add_metric([count.provider, count.channel, count.state], count.count)
    return family
