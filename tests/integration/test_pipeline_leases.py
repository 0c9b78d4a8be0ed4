"""A dispatch task works its lane only while it holds its runner lease (real store, real simulator)."""

from __future__ import annotations

import time

import pytest
import redis

from dispatcher.accounts import Account
from dispatcher.pipeline.dispatch import run_dispatch
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from tests.integration.worker_fixtures import enqueue, in_process_runtime, numbers, revicom_sms

pytestmark = pytest.mark.integration

LANE = "revicom:bulk"


def test_a_dispatch_task_whose_lease_expired_does_not_work_the_lane(
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    sim: SimulatorClient,
) -> None:
    # A task delivered again by the broker (or long after its kick) holds a lease that ran out: its
    # slot may be another task's, so working the lane would put it above its runner cap.
    enqueue(store, LANE, [revicom_sms(number) for number in numbers(20)], campaign="c")
    token = store.claim_runner(LANE, max_runners=2, lease_s=0.1)
    assert token is not None
    time.sleep(0.2)

    report = run_dispatch(
        in_process_runtime(store, redis_client, accounts, Settings(key_prefix=key_prefix)), LANE, token
    )

    assert report.stopped == "lease_lost"
    assert report.batches == 0
    assert store.lane_depth(LANE) == 20
    assert sim.requests() == []


def test_a_dispatch_task_holding_its_lease_drains_the_lane(
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    sim: SimulatorClient,
) -> None:
    enqueue(store, LANE, [revicom_sms(number) for number in numbers(20)], campaign="c")
    token = store.claim_runner(LANE, max_runners=2, lease_s=30)
    assert token is not None

    report = run_dispatch(
        in_process_runtime(store, redis_client, accounts, Settings(key_prefix=key_prefix)), LANE, token
    )

    assert report.stopped == "empty"
    assert report.counts["submitted"] == 20
    assert len(sim.messages(provider="revicom")) == 20
