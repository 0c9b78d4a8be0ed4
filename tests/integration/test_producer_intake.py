"""The producer on a real Redis (no worker): ids at once, all-or-nothing intake, idempotency,
cancelling, wire items carrying our ids, and lanes kicked through a real Celery client."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
import redis

from dispatcher import Dispatcher, InvalidMessage
from dispatcher.accounts import Account
from dispatcher.errors import IdempotencyConflict
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.revicom import RevicomSms, RevicomVoiceCode
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.ids import is_message_id
from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.webhooks.signing import new_secret
from tests.integration.worker_fixtures import numbers

pytestmark = pytest.mark.integration


@pytest.fixture
def dispatcher(
    store: Store, accounts: dict[str, Account], redis_url: str, key_prefix: str
) -> Iterator[Dispatcher]:
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix, webhook_secret=new_secret())
    with Dispatcher(store, accounts, settings) as producer:
        yield producer


def sms(number: str, text: str = "Your order has shipped") -> RevicomSms:
    return RevicomSms(destination=number, sender_name="SHOP", text=text)


def stored_keys(client: redis.Redis, prefix: str) -> list[bytes]:
    # SCAN may return a key twice (while Redis rehashes): each key once, sorted.
    return sorted({key for key in client.scan_iter(match=f"{{{prefix}}}:*") if b":celery:" not in key})


def test_send_returns_an_id_at_once_and_stores_a_queued_record(dispatcher: Dispatcher, store: Store) -> None:
    message_id = dispatcher.send(sms("+79161234567"))

    assert is_message_id(message_id)
    status = dispatcher.status(message_id)
    assert status is not None
    assert (status.state, status.lane, status.provider) == ("queued", "revicom:transactional", "revicom")
    assert [(step.source, step.target) for step in status.history] == [("accepted", "queued")]
    record = store.get(message_id)
    assert record is not None
    assert orjson.loads(record.wire) == {
        "channelType": "SMS",
        "senderName": "SHOP",
        "destination": "79161234567",
        "content": "Your order has shipped",
    }


def test_send_many_is_bulk_keeps_order_and_kicks_the_lane_per_chunk(
    dispatcher: Dispatcher, store: Store, redis_client: redis.Redis, key_prefix: str
) -> None:
    destinations = numbers(2500)
    ids = dispatcher.send_many([sms(number) for number in destinations])

    assert len(set(ids)) == 2500
    assert store.lane_depth("revicom:bulk") == 2500
    for index in (0, 1234, 2499):
        record = store.get(ids[index])
        assert record is not None
        assert orjson.loads(record.wire)["destination"] == destinations[index]
    # Each stored chunk kicks the lane, so sending starts while the rest is stored: 3 chunks, but
    # only max_runners_per_bulk_lane (2) tasks, each holding a lease, waiting in the bulk queue.
    lanes = {lane.name: lane for lane in store.lanes()}
    assert lanes["revicom:bulk"].runners == 2
    assert redis_client.llen(f"{{{key_prefix}}}:celery:bulk") == 2


def test_voice_codes_are_transactional_even_in_send_many(dispatcher: Dispatcher) -> None:
    code = RevicomVoiceCode.from_code(destination="79161234567", brand="Shop", code="1234")
    ids = dispatcher.send_many([code, sms("79161234568")])

    lanes = [status.lane for status in map(dispatcher.status, ids) if status is not None]
    assert lanes == ["revicom:transactional", "revicom:bulk"]


def test_one_invalid_message_in_a_batch_stores_nothing(
    dispatcher: Dispatcher, redis_client: redis.Redis, key_prefix: str
) -> None:
    batch: list[object] = [sms(number) for number in numbers(1500)]
    batch[1200] = SmartswitchSms(destination_number="79161234567", body="x" * 9000)

    with pytest.raises(InvalidMessage) as raised:
        dispatcher.send_many(batch)  # type: ignore[arg-type]

    assert [problem.field for problem in raised.value.problems] == ["messages[1200].body"]
    assert "max_url_bytes" in raised.value.problems[0].rule
    assert stored_keys(redis_client, key_prefix) == []


def test_an_account_of_another_provider_is_refused(dispatcher: Dispatcher) -> None:
    with pytest.raises(InvalidMessage, match=r"account='smartswitch': is a smartswitch account"):
        dispatcher.send(sms("79161234567"), account="smartswitch")


def test_an_idempotency_key_returns_the_original_id_and_stores_nothing_new(
    dispatcher: Dispatcher, store: Store
) -> None:
    first = dispatcher.send_with_receipt(sms("79161234567"), idempotency_key="order-42")
    again = dispatcher.send_with_receipt(sms("79161234567"), idempotency_key="order-42")

    assert again == first
    assert (first.replayed, again.replayed) == ([False], [True])
    assert dispatcher.send(sms("79161234567"), idempotency_key="order-42") == first[0]
    assert store.lane_depth("revicom:transactional") == 1


@pytest.mark.parametrize(
    "change",
    [
        {"message": sms("79161234567", "another text")},
        {"message": sms("79161234568")},
        {"priority": "bulk"},
        {"deadline_s": 600.0},
        {"webhook_url": "https://93.184.215.14/sms"},
    ],
    ids=["text", "destination", "priority", "deadline", "webhook"],
)
def test_an_idempotency_key_reused_for_another_request_is_refused_and_stores_nothing(
    dispatcher: Dispatcher,
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    change: dict[str, object],
) -> None:
    first = dispatcher.send(sms("79161234567"), idempotency_key="order-42")
    keys_before = stored_keys(redis_client, key_prefix)
    options = {"message": sms("79161234567"), **change}
    message = options.pop("message")

    with pytest.raises(IdempotencyConflict) as refused:
        dispatcher.send(message, idempotency_key="order-42", **options)  # type: ignore[arg-type]

    assert refused.value.existing == first
    assert refused.value.accepted == ()
    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("idempotency_key", "order-42")
    assert first in problem.rule
    assert stored_keys(redis_client, key_prefix) == keys_before
    record = store.get(first)
    assert record is not None
    assert orjson.loads(record.wire)["content"] == "Your order has shipped"


def test_a_conflicting_key_in_a_batch_stores_nothing_of_it(
    dispatcher: Dispatcher, redis_client: redis.Redis, key_prefix: str
) -> None:
    (first,) = dispatcher.send_many([sms("79161234567")], idempotency_keys=["a"])
    keys_before = stored_keys(redis_client, key_prefix)

    with pytest.raises(IdempotencyConflict) as refused:
        dispatcher.send_many([sms("79161234560"), sms("79161234567", "changed")], idempotency_keys=["b", "a"])

    assert refused.value.existing == first
    assert refused.value.problems[0].value == "a"
    assert stored_keys(redis_client, key_prefix) == keys_before


def test_one_key_for_two_messages_of_a_call_is_refused(dispatcher: Dispatcher, store: Store) -> None:
    with pytest.raises(InvalidMessage) as refused:
        dispatcher.send_many([sms("79161234567"), sms("79161234568")], idempotency_keys=["a", "a"])

    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("messages[1].idempotency_key", "a")
    assert "also for message 0" in problem.rule
    assert store.lane_depth("revicom:bulk") == 0


def test_cancel_before_sending_cancels_and_the_worker_will_skip_it(dispatcher: Dispatcher) -> None:
    message_id = dispatcher.send(sms("79161234567"))

    assert dispatcher.cancel(message_id) == "cancelled"
    status = dispatcher.status(message_id)
    assert status is not None
    assert status.state == "cancelled"
    assert dispatcher.cancel(message_id) == "cancelled"
    assert dispatcher.cancel("0" * 22) == ""


def test_bsg_and_smartswitch_items_carry_the_message_id(dispatcher: Dispatcher, store: Store) -> None:
    rcs = BsgRcs.model_validate(
        {"phone": {"number": "380661231231"}, "sender": "shop", "options": {"text": "Hello"}}
    )
    text = SmartswitchSms(destination_number="380661231231", body="Hello")
    rcs_id, text_id = dispatcher.send_many([rcs, text])

    rcs_record, text_record = store.get(rcs_id), store.get(text_id)
    assert rcs_record is not None
    assert text_record is not None
    assert orjson.loads(rcs_record.wire)["phone"] == {"number": "380661231231", "reference_id": rcs_id}
    assert ["request_id", text_id] in orjson.loads(text_record.wire)
    assert (rcs_record.lane, text_record.lane) == ("bsg:bulk", "smartswitch:bulk")


def test_a_reference_id_of_the_producer_is_refused(dispatcher: Dispatcher) -> None:
    rcs = BsgRcs.model_validate(
        {"phone": {"number": "380661231231", "reference_id": "mine"}, "sender": "s", "options": {"text": "x"}}
    )
    with pytest.raises(InvalidMessage, match=r"phone.reference_id='mine': is set by the dispatcher"):
        dispatcher.send(rcs)
