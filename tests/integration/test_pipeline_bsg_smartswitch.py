"""BSG and Smartswitch through the whole pipeline (producer, real worker and beat, simulator): sent
once each, and a lost response settled by each provider's own rule — never a blind resend."""

from __future__ import annotations

from collections import Counter

import pytest

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for

pytestmark = pytest.mark.integration

BSG_SEND = "/bsg/api/messages/rcs/send"
SMARTSWITCH_SEND = "/smartswitch/api/message"


def rcs(number: str) -> BsgRcs:
    return BsgRcs.model_validate(
        {"phone": {"number": number}, "sender": "rcs_sender", "options": {"text": "Your table is ready"}}
    )


def sms(number: str) -> SmartswitchSms:
    return SmartswitchSms(destination_number=number, body="Your table is ready")


def states(dispatcher: Dispatcher, ids: list[str]) -> Counter[str]:
    return Counter(status.state for status in map(dispatcher.status, ids) if status is not None)


def test_rcs_messages_leave_one_request_each_with_our_id_as_reference(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)

    ids = dispatcher.send_many([rcs(number) for number in numbers(12)])

    wait_for(lambda: states(dispatcher, ids) == {"submitted": 12}, timeout_s=20, what="all submitted")
    assert len(sim.requests(path=BSG_SEND)) == 12
    references = Counter(message["reference_id"] for message in sim.messages(provider="bsg"))
    assert set(references.values()) == {1}
    assert len(references) == 12


def test_a_lost_bsg_response_is_settled_by_its_reference_not_sent_twice(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    # BSG creates the message, then the reply outlives the worker's 1.5 s read timeout.
    sim.add_fault(path=BSG_SEND, method="POST", kind="hang", seconds=3, after_processing=True, count=1)
    pipeline.start_worker()
    pipeline.start_beat()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)

    ids = dispatcher.send_many([rcs(number) for number in numbers(3)])

    wait_for(lambda: states(dispatcher, ids) == {"submitted": 3}, timeout_s=30, what="all submitted")
    created = Counter(message["destination"] for message in sim.messages(provider="bsg"))
    assert sorted(created.values()) == [1, 1, 1], created


def test_smartswitch_recipients_share_requests_and_are_each_created_once(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    destinations = numbers(300)

    ids = dispatcher.send_many([sms(number) for number in destinations])

    wait_for(lambda: states(dispatcher, ids) == {"submitted": 300}, timeout_s=20, what="all submitted")
    requests = sim.requests(path=SMARTSWITCH_SEND)
    assert len(requests) < 300 / 10, f"{len(requests)} requests for 300 recipients"
    created = Counter(message["destination"] for message in sim.messages(provider="smartswitch"))
    assert created == Counter(destinations)


def test_a_lost_smartswitch_response_is_unknown_under_at_most_once(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    # Smartswitch has no idempotency key: the default policy prefers `unknown` to a duplicate.
    sim.add_fault(
        path=SMARTSWITCH_SEND, method="POST", kind="hang", seconds=3, after_processing=True, count=1
    )
    pipeline.start_worker()
    pipeline.start_beat()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)

    ids = dispatcher.send_many([sms(number) for number in numbers(5)])

    wait_for(lambda: states(dispatcher, ids) == {"unknown": 5}, timeout_s=30, what="all unknown")
    assert len(sim.requests(path=SMARTSWITCH_SEND)) == 1
    assert len(sim.messages(provider="smartswitch")) == 5
