"""The producer with a real Celery worker and the simulator: single sends coalesce into shared
requests, and every message ends submitted exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer import MessageTemplate
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for

pytestmark = pytest.mark.integration

SEND_PATH = "/revicom/api/v1/message"
MESSAGES, THREADS = 10_000, 8


def test_single_sends_from_eight_threads_leave_in_far_fewer_requests(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    destinations = numbers(MESSAGES)

    def send_share(share: int) -> list[str]:
        return [
            dispatcher.send(RevicomSms(destination=number, sender_name="SHOP", text="Your code is ready"))
            for number in destinations[share::THREADS]
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        ids = [message_id for share in pool.map(send_share, range(THREADS)) for message_id in share]

    def submitted() -> int:
        # Every message, whichever thread sent it: an empty lane may still have batches in flight,
        # whose messages the simulator has not created yet.
        return sum(count.count for count in store.statistics().current if count.state == "submitted")

    wait_for(lambda: submitted() == MESSAGES, timeout_s=60, what="all sent")
    posts = [request for request in sim.requests(path=SEND_PATH) if request["method"] == "POST"]
    created = Counter(message["destination"] for message in sim.messages(provider="revicom"))
    states = Counter(status.state for status in map(dispatcher.status, ids) if status is not None)

    assert states == {"submitted": MESSAGES}
    assert sorted(created) == sorted(destinations)
    assert set(created.values()) == {1}
    # Transactional lanes do not linger: messages share a request only when they arrive while the
    # previous one is in flight. Measured: ~800 requests (12 messages each) on 2 busy cores.
    assert len(posts) < MESSAGES / 5, f"{len(posts)} requests for {MESSAGES} single sends"
    print(f"{MESSAGES} single sends from {THREADS} threads left in {len(posts)} requests")


def test_cancelling_a_campaign_stops_what_revicom_holds_for_a_later_send_time(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0, tzinfo=None)
    template = MessageTemplate(
        RevicomSms, {"sender_name": "SHOP", "text": "Sale", "local_send_time": tomorrow}
    )
    campaign_id = dispatcher.campaign(template, numbers(60))
    wait_for(
        lambda: dispatcher.campaign_status(campaign_id)["submitted"] == 60, timeout_s=30, what="submitted"
    )

    counts = dispatcher.cancel_campaign(campaign_id)

    assert (counts["cancelled"], counts["submitted"]) == (60, 0)
    assert len(sim.messages(provider="revicom")) == 60
    # Revicom marks stopped messages `unsent` asynchronously.
    wait_for(
        lambda: {message["status"] for message in sim.messages(provider="revicom")} == {"unsent"},
        timeout_s=10,
        what="all unsent at the provider",
    )
