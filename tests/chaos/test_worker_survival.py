"""Workers and beat survive what Redis does to them -- restarts while they hold tasks, a full Redis,
connections cut -- and a worker stopped with SIGTERM mid-drain hands its work over: each campaign
goes out whole, every message once, and every process started is still running at the end.

Before, a Redis restart took down every worker holding late-ack tasks (celery 5.7.0 regression,
see dispatcher/broker.py) and a full Redis took down every worker that received a task
(kombu's ``OutOfMemoryError``), which then failed again at start.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable

import pytest

from dispatcher import Dispatcher, MessageTemplate
from dispatcher.accounts import Account
from dispatcher.models.revicom import RevicomSms
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for
from tests.redis_servers import RestartableRedis

pytestmark = pytest.mark.integration

REVICOM_SEND = "/revicom/api/v1/message"
TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Spring sale: 20% off today"})
MESSAGES = 3000
#: The campaign is paced to last ~10 s, with slow requests: tasks are in hand whenever a fault lands.
RATE = 300


def _start(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> tuple[str, list[subprocess.Popen[bytes]]]:
    pipeline.use_limits("revicom", messages_per_s=RATE, requests_per_s=30, burst=RATE)
    sim.add_fault(path=REVICOM_SEND, method="POST", kind="latency", seconds=0.4, probability=0.5)
    processes = [pipeline.start_worker(concurrency=4) for _ in range(2)]
    processes.append(pipeline.start_beat())
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        campaign_id = producer.campaign(TEMPLATE, numbers(MESSAGES))
    wait_for(lambda: len(sim.messages(provider="revicom")) >= 300, timeout_s=20, what="the drain to start")
    return campaign_id, processes


def _finish(
    store: Store, sim: SimulatorClient, campaign_id: str, processes: list[subprocess.Popen[bytes]]
) -> None:
    wait_for(
        lambda: store.campaign_counts(campaign_id).get("submitted") == MESSAGES, timeout_s=90, what="all sent"
    )
    time.sleep(1.0)  # a duplicate still in flight lands by now
    created = Counter(message["destination"] for message in sim.messages(provider="revicom"))
    assert sorted(created) == sorted(numbers(MESSAGES))
    assert set(created.values()) == {1}, "each exactly once"
    assert [process.poll() for process in processes] == [None] * len(processes), "a process exited"


def _repeat(times: int, every_s: float, harm: Callable[[], object]) -> None:
    for _ in range(times):
        harm()
        time.sleep(every_s)


def test_workers_survive_redis_restarts_while_they_hold_tasks(
    store: Store,
    accounts: dict[str, Account],
    sim: SimulatorClient,
    pipeline: PipelineProcesses,
    chaos_redis: RestartableRedis,
) -> None:
    campaign_id, processes = _start(store, accounts, sim, pipeline)

    _repeat(3, 1.5, lambda: chaos_redis.crash_and_restart(down_s=0.5))

    _finish(store, sim, campaign_id, processes)


def test_workers_survive_a_full_redis_and_go_on_when_memory_frees(
    store: Store,
    accounts: dict[str, Account],
    sim: SimulatorClient,
    pipeline: PipelineProcesses,
    chaos_redis: RestartableRedis,
) -> None:
    campaign_id, processes = _start(store, accounts, sim, pipeline)
    chaos_redis.fill()
    time.sleep(4.0)
    stalled_at = len(sim.messages(provider="revicom"))
    assert [process.poll() for process in processes] == [None] * len(processes), "a process exited when full"
    time.sleep(2.0)
    assert len(sim.messages(provider="revicom")) - stalled_at < 300, "nothing moves while Redis is full"

    chaos_redis.unfill()

    _finish(store, sim, campaign_id, processes)


def test_workers_survive_their_connections_being_cut(
    store: Store,
    accounts: dict[str, Account],
    sim: SimulatorClient,
    pipeline: PipelineProcesses,
    chaos_redis: RestartableRedis,
) -> None:
    campaign_id, processes = _start(store, accounts, sim, pipeline)

    _repeat(4, 1.0, chaos_redis.drop_connections)

    _finish(store, sim, campaign_id, processes)


def test_a_worker_stopped_with_sigterm_mid_drain_hands_its_work_over(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    campaign_id, processes = _start(store, accounts, sim, pipeline)
    stopped = processes.pop(0)

    stopped.send_signal(signal.SIGTERM)  # warm shutdown: it finishes its tasks, then exits
    assert stopped.wait(timeout=60) == 0

    _finish(store, sim, campaign_id, processes)
