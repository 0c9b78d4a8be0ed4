"""The pipeline end to end: real Celery workers and beat, Redis and the simulator over HTTP."""

from __future__ import annotations

from collections import Counter

import pytest

from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from dispatcher.taskqueue import kick
from tests.integration.worker_fixtures import (
    PipelineProcesses,
    enqueue,
    numbers,
    revicom_sms,
    wait_for,
)
from tests.support import labels, metrics_env, scrape

pytestmark = pytest.mark.integration

SEND_PATH = "/revicom/api/v1/message"
LANE = "revicom:bulk"


def _posts(sim: SimulatorClient) -> list[dict[str, object]]:
    return [request for request in sim.requests(path=SEND_PATH) if request["method"] == "POST"]


def _done(store: Store, campaign: str, state: str, count: int) -> bool:
    return store.campaign_counts(campaign).get(state, 0) == count


def test_2500_sms_leave_in_three_requests(
    store: Store, sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    enqueue(store, LANE, [revicom_sms(number) for number in numbers(2500)], campaign="c1")
    pipeline.start_worker()
    assert kick(store, pipeline.tasks, LANE, pipeline.settings)

    took = wait_for(lambda: _done(store, "c1", "submitted", 2500), timeout_s=30, what="2,500 submitted")

    sizes = [len(request["body"]) for request in _posts(sim)]  # type: ignore[arg-type]
    assert sizes == [1000, 1000, 500]
    print(f"2,500 SMS submitted in {took:.2f} s")


def test_a_response_lost_after_processing_is_reconciled_not_resent(
    store: Store, sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    # The simulator creates the messages, then holds the reply past the worker's 1.5 s read timeout.
    sim.add_fault(path=SEND_PATH, method="POST", kind="hang", seconds=3, after_processing=True, count=1)
    destinations = numbers(50)
    enqueue(store, LANE, [revicom_sms(number) for number in destinations], campaign="c1")
    worker_metrics, worker_url = metrics_env()
    pipeline.start_worker(env=worker_metrics)
    pipeline.start_beat()

    took = wait_for(lambda: _done(store, "c1", "submitted", 50), timeout_s=30, what="reconciled")

    created = Counter(message["destination"] for message in sim.messages(provider="revicom"))
    assert created == Counter(destinations)
    assert len(_posts(sim)) == 1
    metrics = scrape(worker_url)
    timed_out = labels(account="revicom", provider="revicom", outcome="ResponseTimedOut")
    assert metrics[("dispatcher_provider_request_seconds_count", timed_out)] == 1
    assert metrics[("dispatcher_provider_request_seconds_sum", timed_out)] >= 1.5  # the read timeout
    assert (
        metrics[("dispatcher_reconciled_messages_total", labels(account="revicom", result="submitted"))] == 50
    )
    print(f"lost response reconciled in {took:.2f} s")


def test_503_and_429_are_retried_and_the_429_pauses_the_lane(
    store: Store, sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    sim.add_fault(path=SEND_PATH, method="POST", kind="status", status=503, count=1)
    enqueue(store, LANE, [revicom_sms(number) for number in numbers(20)], campaign="c1")
    worker_metrics, worker_url = metrics_env()
    pipeline.start_worker(env=worker_metrics)
    pipeline.start_beat()
    wait_for(lambda: _done(store, "c1", "submitted", 20), timeout_s=30, what="submitted after a 503")

    sim.add_fault(path=SEND_PATH, method="POST", kind="rate_limit", retry_after=2, count=1)
    enqueue(store, LANE, [revicom_sms(number) for number in numbers(20, first=100)], campaign="c2")
    assert kick(store, pipeline.tasks, LANE, pipeline.settings)
    wait_for(lambda: store.lane_paused(LANE) is not None, timeout_s=10, what="the lane paused by a 429")
    wait_for(lambda: _done(store, "c2", "submitted", 20), timeout_s=30, what="submitted after a 429")

    posts = _posts(sim)
    assert [post["status"] for post in posts] == [503, 200, 429, 200]
    paused_s = float(posts[3]["time"]) - float(posts[2]["time"])  # type: ignore[arg-type]
    assert paused_s >= 1.9, f"sent again {paused_s:.2f} s after a 429 with Retry-After: 2"
    assert len(sim.messages(provider="revicom")) == 40
    metrics = scrape(worker_url)
    assert metrics[("dispatcher_retries_total", labels(account="revicom", error="ProviderUnavailable"))] == 20
    assert metrics[("dispatcher_rate_limit_pauses_total", labels(account="revicom"))] == 1
    outcomes = {
        dict(key)["outcome"]: value
        for (name, key), value in metrics.items()
        if name == "dispatcher_provider_request_messages_total"
    }
    assert outcomes == {"ProviderUnavailable": 20, "ok": 40, "RateLimited": 20}


def test_a_refused_batch_is_split_until_only_the_bad_message_is_rejected(
    store: Store, sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    destinations = numbers(10)
    destinations[6] = "123"  # not a number: Revicom refuses the whole request (4220 Invalid msisdn)
    ids = enqueue(store, LANE, [revicom_sms(number) for number in destinations], campaign="c1")
    pipeline.start_worker()
    assert kick(store, pipeline.tasks, LANE, pipeline.settings)

    wait_for(lambda: _done(store, "c1", "submitted", 9), timeout_s=30, what="the 9 good ones submitted")

    bad = store.get(ids[6])
    assert bad is not None
    assert bad.state == "rejected"
    assert "4220" in (bad.reason or "")
    assert sorted(message["destination"] for message in sim.messages(provider="revicom")) == sorted(
        number for number in destinations if number != "123"
    )
