"""RCS → SMS fallback through the API, real worker and beat processes and the simulator's real BSG
callbacks: exactly one SMS when the RCS message fails or stays undelivered past its deadline, none
when it is delivered first."""

from __future__ import annotations

import time

import orjson
import pytest
import redis
import requests

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.models.bsg import BsgRcs
from dispatcher.producer.extras import SmsFallback
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from tests.integration.api_fixtures import api, api_port, pipeline_env
from tests.integration.worker_fixtures import PipelineProcesses, numbers, revicom_sms, wait_for

__all__ = ["api", "api_port", "pipeline_env"]  # fixtures used by name
pytestmark = pytest.mark.integration
REVICOM_SEND = "/revicom/api/v1/message"


def rcs(number: str) -> BsgRcs:
    return BsgRcs.model_validate(
        {"phone": {"number": number}, "sender": "rcs_sender", "options": {"text": "Hi"}}
    )


def sms_sent_to(sim: SimulatorClient, number: str) -> int:
    return sum(item["destination"] == number for r in sim.requests(path=REVICOM_SEND) for item in r["body"])


@pytest.fixture
def dispatcher(
    store: Store, accounts: dict[str, Account], pipeline: PipelineProcesses, api: str
) -> Dispatcher:
    pipeline.start_worker()
    pipeline.start_beat()
    return Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)


def test_rcs_falls_back_to_one_sms_when_expired_even_with_two_beats_and_repeated_callbacks(
    dispatcher: Dispatcher, sim: SimulatorClient, pipeline: PipelineProcesses, api: str
) -> None:
    sim.configure(callback_delay_s=[0.05, 0.1], outcomes={"bsg": {"expired": 1.0}})
    pipeline.start_beat()  # a second beat: ticks still run one at a time, fallbacks once
    number = numbers(1)[0]

    rcs_id = dispatcher.send(rcs(number), fallback=SmsFallback("Your code 1234", "SHOP", deadline_s=60))

    wait_for(lambda: sms_sent_to(sim, number) == 1, timeout_s=15, what="the SMS fallback")
    expired = [c for c in sim.callbacks() if c["provider"] == "bsg" and c["body"]["status"] == "expired"]
    for _ in range(2):
        requests.post(expired[0]["url"], data=orjson.dumps(expired[0]["body"]), timeout=5)
    time.sleep(2.5)
    assert sms_sent_to(sim, number) == 1
    status = dispatcher.status(rcs_id)
    assert status is not None
    assert status.state == "expired"
    assert status.fallback_id is not None
    sms = dispatcher.status(status.fallback_id)
    assert sms is not None
    assert sms.fallback_of == rcs_id


def test_rcs_without_any_callback_by_its_deadline_falls_back_once(
    dispatcher: Dispatcher, sim: SimulatorClient
) -> None:
    sim.configure(callback_delay_s=[30, 30])
    number = numbers(1)[0]

    rcs_id = dispatcher.send(rcs(number), fallback=SmsFallback("Your code 1234", "SHOP", deadline_s=1.5))

    wait_for(lambda: sms_sent_to(sim, number) == 1, timeout_s=10, what="the SMS fallback")
    time.sleep(2)
    assert sms_sent_to(sim, number) == 1
    assert dispatcher.status(rcs_id).fallback_id is not None  # type: ignore[union-attr]


def test_a_delivered_rcs_message_sends_no_sms(dispatcher: Dispatcher, sim: SimulatorClient) -> None:
    sim.configure(callback_delay_s=[0.05, 0.1], outcomes={"bsg": {"delivered": 1.0}})
    number = numbers(1)[0]

    rcs_id = dispatcher.send(rcs(number), fallback=SmsFallback("Your code 1234", "SHOP", deadline_s=1.5))

    wait_for(lambda: dispatcher.status(rcs_id).state == "delivered", timeout_s=10, what="delivered")  # type: ignore[union-attr]
    time.sleep(2.5)
    assert sms_sent_to(sim, number) == 0
    assert dispatcher.status(rcs_id).fallback_id is None  # type: ignore[union-attr]


def test_a_fallback_stored_by_an_earlier_version_keeps_its_absolute_deadline(
    store: Store, redis_client: redis.Redis, key_prefix: str
) -> None:
    # Before times to live, the SMS's payload carried an absolute "deadline": what is left of it.
    deadline = store.now() + 120
    payload = {
        "id": "00000000000sms0legacy0",
        "lane": "revicom:transactional",
        "provider": "revicom",
        "wire": revicom_sms("79160000009").decode(),
        "deadline": deadline,
        "channel": "sms",
    }
    rcs_key = f"{{{key_prefix}}}:m:00000000000rcs0legacy0"
    redis_client.hset(rcs_key, mapping={"st": "submitted", "fb": orjson.dumps(payload), "fbi": payload["id"]})

    assert store.claim_fallbacks(["00000000000rcs0legacy0"]) == ["00000000000rcs0legacy0"]
    (sms,) = store.create_fallbacks(["00000000000rcs0legacy0"])

    record = store.get(sms.id)
    assert record is not None
    assert record.deadline == pytest.approx(deadline, abs=2)
