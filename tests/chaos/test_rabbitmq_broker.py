"""RabbitMQ as the broker, the store on its own Redis: the pipeline's core scenarios -- a campaign, a
worker killed with ``kill -9`` mid-drain, requests whose outcome must be reconciled, the broker
closing every connection -- each message exactly once, and no Celery key in the store.

Each test gets a RabbitMQ virtual host of its own, deleted afterwards; they skip where RabbitMQ (or
``rabbitmqctl``) is not there.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
import redis

from dispatcher import Dispatcher, MessageTemplate
from dispatcher.accounts import Account
from dispatcher.models.revicom import RevicomSms
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from tests import rabbitmq
from tests.integration.worker_fixtures import FAST_PIPELINE_ENV, PipelineProcesses, numbers, wait_for

WHY_NOT = rabbitmq.unavailable()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))]

REVICOM_SEND = "/revicom/api/v1/message"
TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Spring sale: 20% off today"})
READ_TIMEOUT_S = float(FAST_PIPELINE_ENV["DISPATCHER_READ_TIMEOUT_S"])


@pytest.fixture
def vhost() -> Iterator[tuple[str, str]]:
    with rabbitmq.private_vhost() as created:
        yield created


@pytest.fixture
def pipeline_env(pipeline_env: dict[str, str], vhost: tuple[str, str]) -> dict[str, str]:
    """The pipeline's processes take their tasks from RabbitMQ."""
    return {**pipeline_env, "DISPATCHER_BROKER_URL": vhost[1]}


def _campaign(store: Store, accounts: dict[str, Account], pipeline: PipelineProcesses, size: int) -> str:
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        return producer.campaign(TEMPLATE, numbers(size))


def _sent_once(
    store: Store, sim: SimulatorClient, campaign_id: str, size: int, redis_client: redis.Redis, prefix: str
) -> None:
    wait_for(lambda: store.campaign_counts(campaign_id).get("submitted") == size, timeout_s=90, what="sent")
    time.sleep(1.0)  # a duplicate still in flight lands by now
    created = Counter(message["destination"] for message in sim.messages(provider="revicom"))
    assert sorted(created) == sorted(numbers(size))
    assert set(created.values()) == {1}, "each exactly once"
    assert list(redis_client.scan_iter(match=f"{{{prefix}}}:celery*")) == [], "tasks went through Redis"


def test_a_campaign_goes_out_whole_through_rabbitmq(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses,
    redis_client: redis.Redis, key_prefix: str,
) -> None:  # fmt: skip
    pipeline.start_worker()
    pipeline.start_beat()

    campaign_id = _campaign(store, accounts, pipeline, 5000)

    _sent_once(store, sim, campaign_id, 5000, redis_client, key_prefix)


def test_a_worker_killed_mid_drain_loses_nothing_and_sends_nothing_twice_with_rabbitmq(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses,
    redis_client: redis.Redis, key_prefix: str,
) -> None:  # fmt: skip
    sim.add_fault(path=REVICOM_SEND, method="POST", kind="latency", seconds=0.4)
    victim = pipeline.start_worker()
    pipeline.start_beat()
    campaign_id = _campaign(store, accounts, pipeline, 4000)
    wait_for(lambda: len(sim.requests(path=REVICOM_SEND)) >= 2, timeout_s=15, what="the first requests")

    pipeline.kill(victim)  # RabbitMQ gives its unacknowledged tasks back when the connection drops
    pipeline.start_worker()

    _sent_once(store, sim, campaign_id, 4000, redis_client, key_prefix)


def test_lost_responses_are_reconciled_not_resent_with_rabbitmq(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses,
    redis_client: redis.Redis, key_prefix: str,
) -> None:  # fmt: skip
    # The provider creates the messages, then answers after the workers' read timeout: ambiguous.
    hang = {"kind": "hang", "seconds": READ_TIMEOUT_S + 0.5, "after_processing": True, "count": 3}
    sim.add_fault(path=REVICOM_SEND, method="POST", **hang)
    pipeline.start_worker()
    pipeline.start_beat()

    campaign_id = _campaign(store, accounts, pipeline, 3000)

    _sent_once(store, sim, campaign_id, 3000, redis_client, key_prefix)
    lookups = [r for r in sim.requests(path=REVICOM_SEND) if r["method"] == "GET"]
    assert lookups, "nothing was reconciled"


def test_workers_survive_rabbitmq_closing_their_connections(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses,
    vhost: tuple[str, str], redis_client: redis.Redis, key_prefix: str,
) -> None:  # fmt: skip
    pipeline.use_limits("revicom", messages_per_s=400, requests_per_s=40, burst=400)
    workers = [pipeline.start_worker(), pipeline.start_worker(), pipeline.start_beat()]
    campaign_id = _campaign(store, accounts, pipeline, 4000)
    wait_for(lambda: len(sim.messages(provider="revicom")) >= 400, timeout_s=20, what="the drain to start")

    for _ in range(2):
        rabbitmq.close_connections(vhost[0])
        time.sleep(2.0)

    _sent_once(store, sim, campaign_id, 4000, redis_client, key_prefix)
    assert [process.poll() for process in workers] == [None, None, None], "a process exited"
