"""An answer is the truth, whatever Redis and the broker do during intake: ids returned are stored and
go out; a call that raises names exactly the ids it stored (``accepted``) and those it may have
(``unknown``), and stored nothing else. Each test harms a private Redis (or broker) for real.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from celery import Celery
from click.testing import CliRunner
from redis.backoff import NoBackoff
from redis.retry import Retry

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.cli.main import cli
from dispatcher.errors import StoreError, StoreFull, StoreOutcomeUnknown
from dispatcher.models.revicom import RevicomSms
from dispatcher.processes import free_port
from dispatcher.producer import MessageTemplate
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from dispatcher.store.states import FINAL_STATES
from dispatcher.taskqueue import celery_config
from tests.integration.api_fixtures import API_KEY, api_port, producer_api
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for
from tests.redis_servers import RestartableRedis

pytestmark = pytest.mark.integration
__all__ = ["api_port", "producer_api"]  # fixtures, by name

#: Out of our hands: the provider holds it (no callbacks here), or it is final.
DONE = FINAL_STATES | {"submitted"}
TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Spring sale: 20% off today"})


def sms(number: str) -> RevicomSms:
    return RevicomSms(destination=number, sender_name="SHOP", text="Your order has shipped")


def stored(store: Store, ids: list[str]) -> set[str]:
    return {message_id for message_id in ids if store.get(message_id) is not None}


def message_ids_in(server: RestartableRedis) -> set[str]:
    """The id of every message record in the server."""
    with server.client() as client:
        return {key.decode().rsplit(":", 1)[1] for key in client.scan_iter(match="*:m:*", count=10_000)}


def _send_many(producer: Dispatcher, batch: list[RevicomSms]) -> tuple[list[str], StoreError | None]:
    try:
        return producer.send_many(batch), None
    except StoreError as error:
        return [], error


def unreachable_broker(settings: Settings) -> Celery:
    """A Celery client configured like the producer's, but whose broker is a port nobody listens on."""
    app = Celery("unreachable", set_as_current=False)
    app.conf.update({**celery_config(settings), "broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    return app


def test_a_kick_that_fails_after_the_store_still_answers_the_ids_and_beat_sends_them(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    # The failure this guards against: stored, queued, then the kick raised and the caller was told
    # "failed" -- and a caller that retries sends twice.
    tasks = unreachable_broker(pipeline.settings)
    with Dispatcher(store, accounts, pipeline.settings, tasks=tasks) as producer:
        one = producer.send(sms("79160000001"))
        many = producer.send_many([sms(number) for number in numbers(50, first=100)])

    assert {store.get(message_id).state for message_id in [one, *many]} == {"queued"}  # type: ignore[union-attr]
    pipeline.start_worker()
    pipeline.start_beat()  # kicks the lanes within a second
    wait_for(lambda: len(sim.messages(provider="revicom")) == 51, timeout_s=30, what="beat to send them")
    assert {store.get(message_id).state for message_id in [one, *many]} == {"submitted"}  # type: ignore[union-attr]


def test_a_full_redis_refuses_intake_naming_exactly_the_ids_it_took(
    store: Store, accounts: dict[str, Account], pipeline: PipelineProcesses, chaos_redis: RestartableRedis
) -> None:
    # Redis fills up at a random point of a 2,500-message call (~1.2 MB in three store scripts, then
    # kicks), or not at all: whatever the call answers must be what Redis holds.
    rng = random.Random(11)
    outcomes: dict[str, int] = {"returned": 0, "store_full": 0}
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        for trial in range(24):
            batch = [sms(number) for number in numbers(2500, first=trial * 10_000)]
            before = message_ids_in(chaos_redis)
            chaos_redis.fill(headroom_bytes=rng.randrange(0, 3_000_000))
            ids, failure = _send_many(producer, batch)
            chaos_redis.unfill()
            added = message_ids_in(chaos_redis) - before
            if failure is None:
                assert added == set(ids)
                outcomes["returned"] += 1
            else:
                assert isinstance(failure, StoreFull), failure
                assert failure.unknown == ()
                assert len(failure.accepted) in (0, 1000, 2000), "whole chunks or none"
                assert added == set(failure.accepted), "those and no others"
                outcomes["store_full"] += 1
    # Both answers happened, or the test proved little.
    assert outcomes["returned"], outcomes
    assert outcomes["store_full"], outcomes


class StallsBeforeTheWrite(Store):
    """The real store; Redis stalls just before the ``on_call``-th intake write is sent, so that the
    stall meets that write in flight (the moment a stall does harm)."""

    def __init__(self, client: redis.Redis, *, prefix: str, stall: Callable[[], None], on_call: int) -> None:
        super().__init__(client, prefix=prefix)
        self.stall = stall
        self.on_call = on_call
        self.calls = 0

    def add_messages(self, *args: Any, **kwargs: Any) -> list[str]:
        self.calls += 1
        if self.calls == self.on_call:
            self.stall()
        return super().add_messages(*args, **kwargs)


@pytest.mark.parametrize("stall", ["blocked", "paused"])
def test_a_stalled_redis_answers_outcome_unknown_naming_the_id_and_a_retry_stores_it_once(
    stall: str,
    redis_url: str,
    key_prefix: str,
    accounts: dict[str, Account],
    pipeline: PipelineProcesses,
    chaos_redis: RestartableRedis,
) -> None:
    # A client with a short socket timeout and no retries, as a caller may configure it; Redis
    # stalls longer than that with the message's script in flight. Blocked (DEBUG SLEEP), Redis runs
    # the script when it wakes; paused (CLIENT PAUSE WRITE), it drops it with the closed connection.
    # Either way the answer may not be "failed", and a retry with the same key stores one message.
    client = redis.Redis.from_url(redis_url, socket_timeout=1, retry=Retry(NoBackoff(), 0))
    stall_now = {
        "blocked": partial(chaos_redis.block, 3.0),
        "paused": partial(chaos_redis.stall, 3.0, writes_only=True),
    }[stall]
    store = StallsBeforeTheWrite(client, prefix=key_prefix, stall=stall_now, on_call=2)
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        number = "79160000002"
        producer.send(sms("79160000003"), priority="bulk")  # Redis has the scripts loaded now
        with pytest.raises(StoreOutcomeUnknown) as raised:
            producer.send(sms(number), idempotency_key="order-1")
        (message_id,) = raised.value.unknown
        assert raised.value.accepted == ()

        time.sleep(3.0)  # the stall is over
        landed = store.get(message_id) is not None
        retried = producer.send(sms(number), idempotency_key="order-1")
    assert landed == (stall == "blocked")
    assert retried == message_id if landed else retried != message_id
    lane = chaos_redis.client().lrange(f"{{{key_prefix}}}:lane:revicom:transactional", 0, -1)
    assert lane == [retried.encode()], "one message for the key"


class ReleaseFailsOnce(Store):
    """The real store, with a Redis failure injected into the second release call of a campaign."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.release_calls = 0

    def release_campaign(self, *args: Any, **kwargs: Any) -> Any:
        self.release_calls += 1
        if self.release_calls == 2:
            raise redis.ConnectionError("injected: the connection broke during the release")
        return super().release_campaign(*args, **kwargs)


def test_a_campaign_whose_release_failed_half_way_goes_out_in_full_with_every_record(
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    sim: SimulatorClient,
    pipeline: PipelineProcesses,
) -> None:
    # The failure this guards against: the release raised after 10,000 of a campaign; workers sent
    # those; then beat's held-campaign sweep deleted every record: sent messages with no record.
    pipeline.env["DISPATCHER_HELD_CAMPAIGN_TIMEOUT_S"] = "3"
    pipeline.start_worker()
    pipeline.start_beat()
    store = ReleaseFailsOnce(redis_client, prefix=key_prefix)
    destinations = numbers(12_000)
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        campaign_id = producer.campaign(TEMPLATE, destinations)
        assert producer.campaign_accepted(campaign_id) is True

    ids = list(store.campaign_message_ids(campaign_id))
    assert len(ids) == 12_000
    wait_for(
        lambda: store.campaign_counts(campaign_id).get("submitted") == 12_000, timeout_s=90, what="all sent"
    )
    assert stored(store, ids) == set(ids)
    created = [message["destination"] for message in sim.messages(provider="revicom")]
    assert sorted(created) == sorted(destinations), "each exactly once"


def test_a_campaign_that_fails_before_its_commit_is_not_accepted_and_sends_nothing(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses,
    chaos_redis: RestartableRedis,
) -> None:  # fmt: skip
    pipeline.env["DISPATCHER_HELD_CAMPAIGN_TIMEOUT_S"] = "2"
    pipeline.start_worker()
    pipeline.start_beat()
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        chaos_redis.fill(headroom_bytes=1_200_000)  # room for the first chunks, not for all
        with pytest.raises(StoreFull) as raised:
            producer.campaign(TEMPLATE, numbers(8000))
        chaos_redis.unfill()
        campaign_id = raised.value.campaign
        assert campaign_id is not None
        assert raised.value.accepted == ()
        assert "nothing of it is sent" in str(raised.value)
        assert producer.campaign_accepted(campaign_id) in (False, None)

    wait_for(lambda: store.campaign_accepted(campaign_id) is None, timeout_s=15, what="beat to discard it")
    time.sleep(1.0)
    assert sim.messages(provider="revicom") == []


def test_every_id_intake_answered_goes_out_while_redis_stalls_and_fills(
    store: Store, accounts: dict[str, Account], pipeline: PipelineProcesses, chaos_redis: RestartableRedis
) -> None:
    # Intake while Redis stalls and fills in turn: every id any call answered, and every id a failure
    # named as accepted, leaves our hands (submitted or final); an unknown one did too, or was never
    # stored.
    pipeline.start_worker()
    pipeline.start_beat()
    answered: list[str] = []
    unknown: list[str] = []
    rng = random.Random(5)
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        for group in range(30):
            if group % 10 == 3:
                chaos_redis.full_for(rng.uniform(0.3, 1.0))
            if group % 10 == 7:
                chaos_redis.stall(rng.uniform(0.5, 2.0))
            try:
                answered += producer.send_many([sms(number) for number in numbers(300, first=group * 1000)])
            except StoreError as error:
                answered += error.accepted
                unknown += error.unknown
            time.sleep(0.1)

    def gone_out(ids: list[str]) -> bool:
        return all(store.get(i) is None or store.get(i).state in DONE for i in ids)  # type: ignore[union-attr]

    wait_for(lambda: gone_out(answered[::20]) and gone_out(answered), timeout_s=60, what="the drain")
    assert stored(store, answered) == set(answered)
    assert gone_out(unknown)


def test_intake_succeeds_while_a_separate_broker_is_down_and_beat_sends_when_it_is_back(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses,
    tmp_path: Path,
) -> None:  # fmt: skip
    broker = RestartableRedis(tmp_path / "broker")
    try:
        pipeline.env["DISPATCHER_BROKER_URL"] = broker.url
        pipeline.settings = pipeline.settings.model_copy(update={"broker_url": broker.url})
        workers = [pipeline.start_worker(), pipeline.start_beat()]
        tasks = Celery("producer", set_as_current=False)
        tasks.conf.update(celery_config(pipeline.settings))
        broker.crash()

        with Dispatcher(store, accounts, pipeline.settings, tasks=tasks) as producer:
            started = time.monotonic()
            ids = [producer.send(sms(number)) for number in numbers(100)]
            took_s = time.monotonic() - started
        assert {store.get(message_id).state for message_id in ids} == {"queued"}  # type: ignore[union-attr]
        assert took_s < 10, f"intake waited on the broker: {took_s:.1f} s for 100 sends"

        broker.restart()
        wait_for(lambda: len(sim.messages(provider="revicom")) == 100, timeout_s=60, what="beat to send them")
        assert [process.poll() for process in workers] == [None, None], "a process exited"
        tasks.close()
    finally:
        broker.stop()


def test_the_api_answers_store_full_with_its_own_code_and_stores_nothing(
    producer_api: str, chaos_redis: RestartableRedis, key_prefix: str
) -> None:
    body = {"type": "revicom_sms", "destination": "+79161234567", "sender_name": "SHOP", "text": "Hi"}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    before = message_ids_in(chaos_redis)
    chaos_redis.fill()
    try:
        full = requests.post(f"{producer_api}/v1/messages", json=body, headers=headers, timeout=30)
    finally:
        chaos_redis.unfill()
    after = requests.post(f"{producer_api}/v1/messages", json=body, headers=headers, timeout=30)

    assert full.status_code == 503
    error = full.json()["error"]
    assert (error["code"], error["accepted"], error["unknown"]) == ("store_full", [], [])
    assert after.status_code == 202
    assert message_ids_in(chaos_redis) - before == set(after.json()["ids"])


def test_the_cli_says_a_full_store_stored_nothing_without_a_traceback(
    redis_url: str, key_prefix: str, chaos_redis: RestartableRedis
) -> None:
    env = {"DISPATCHER_REDIS_URL": redis_url, "DISPATCHER_KEY_PREFIX": key_prefix}
    chaos_redis.fill()
    try:
        arguments = ["send", "sms", "--to", "+79161234567", "--sender", "SHOP", "--text", "Hi"]
        result = CliRunner().invoke(cli, arguments, env=env)
    finally:
        chaos_redis.unfill()

    assert result.exit_code == 1
    assert "Error: the store is full" in result.output
    assert "Traceback" not in result.output
    assert message_ids_in(chaos_redis) == set()
