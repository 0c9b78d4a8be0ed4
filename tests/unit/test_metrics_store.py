"""The store's metrics as Prometheus sees them: names, labels and values of one snapshot, and a
scrape that still answers when Redis does not."""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from dispatcher.metrics.store import StoreCollector, store_metrics
from dispatcher.processes import free_port
from dispatcher.store import LaneInfo, Store
from dispatcher.store.stats import MessageCount, StoreStatistics
from tests.support import labels, samples_of

SNAPSHOT = StoreStatistics(
    current=[MessageCount("revicom", "sms", "queued", 1200), MessageCount("bsg", "rcs", "submitted", 3)],
    entered=[
        MessageCount("revicom", "sms", "delivered", 98_000),
        MessageCount("revicom", "voicecode", "failed", 2),
    ],
    lanes=[
        LaneInfo("revicom:bulk", depth=1200, paused=None, paused_for_s=None, runners=2),
        LaneInfo("bsg:transactional", depth=0, paused="4012 Bad credentials", paused_for_s=None, runners=0),
    ],
    retry_waiting=7,
    scheduled_waiting=500,
    batches_in_flight=2,
    early_callbacks=1,
    fallbacks_due=4,
    webhooks_due=0,
)


class _Snapshot(Collector):
    def collect(self) -> Iterator[Metric]:
        return store_metrics(SNAPSHOT)


def exposition(collector: Collector) -> str:
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode()


def test_a_snapshot_becomes_messages_by_provider_channel_and_state_and_lane_gauges() -> None:
    found = samples_of(exposition(_Snapshot()))

    assert (
        found[("dispatcher_messages_current", labels(provider="revicom", channel="sms", state="queued"))]
        == 1200
    )
    assert (
        found[("dispatcher_messages_current", labels(provider="bsg", channel="rcs", state="submitted"))] == 3
    )
    assert (
        found[("dispatcher_messages_total", labels(provider="revicom", channel="sms", state="delivered"))]
        == 98_000
    )
    assert found[("dispatcher_lane_depth", labels(lane="revicom:bulk"))] == 1200
    assert found[("dispatcher_lane_paused", labels(lane="revicom:bulk"))] == 0
    assert found[("dispatcher_lane_paused", labels(lane="bsg:transactional"))] == 1
    assert found[("dispatcher_lane_runners", labels(lane="revicom:bulk"))] == 2
    assert found[("dispatcher_retry_waiting", frozenset())] == 7
    assert found[("dispatcher_scheduled_waiting", frozenset())] == 500
    assert found[("dispatcher_fallbacks_due", frozenset())] == 4


def test_every_family_is_declared_once() -> None:
    text = exposition(_Snapshot())
    declared = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]

    assert len(declared) == len(set(declared)), declared


def test_a_scrape_answers_with_store_up_0_when_redis_does_not() -> None:
    client = redis.Redis(port=free_port(), socket_connect_timeout=0.5)  # nobody listens there
    text = exposition(StoreCollector(Store(client, prefix="t")))

    assert samples_of(text) == {("dispatcher_store_up", frozenset()): 0}
