"""A campaign id is an idempotency key (real Redis, no worker): a replay with the same content
stores nothing and answers the existing campaign, whether the first call finished, died half-way or
is still running in another producer; different content under the same id is refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dispatcher import Dispatcher, MessageTemplate
from dispatcher.accounts import Account
from dispatcher.errors import IdempotencyConflict, InvalidMessage, StoreUnavailable
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer.campaigns import CampaignReceipt
from dispatcher.settings import Settings
from dispatcher.store import Store
from tests.integration.conftest import MessageFactory, claim_held
from tests.integration.test_producer_campaign import TEMPLATE, write_csv
from tests.integration.test_producer_intake import stored_keys
from tests.integration.worker_fixtures import numbers

pytestmark = pytest.mark.integration

LANE = "revicom:bulk"


@pytest.fixture
def settings(redis_url: str, key_prefix: str) -> Settings:
    return Settings(redis_url=redis_url, key_prefix=key_prefix, campaign_lease_s=2)


@pytest.fixture
def dispatcher(store: Store, accounts: dict[str, Account], settings: Settings) -> Iterator[Dispatcher]:
    with Dispatcher(store, accounts, settings) as producer:
        yield producer


def recipients(count: int, *, first: int = 0) -> list[dict[str, str]]:
    return [
        {"phone": number, "name": f"Ann {first + i}"} for i, number in enumerate(numbers(count, first=first))
    ]


def message_keys(client: redis.Redis, prefix: str) -> int:
    return sum(1 for key in stored_keys(client, prefix) if b":m:" in key)


def test_a_replay_with_the_same_content_stores_nothing_and_answers_the_campaign(
    dispatcher: Dispatcher, store: Store, redis_client: redis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", 2500)
    first = dispatcher.campaign_with_receipt(TEMPLATE, path, campaign_id="spring")
    keys_after_first = stored_keys(redis_client, key_prefix)

    again = dispatcher.campaign_with_receipt(TEMPLATE, path, campaign_id="spring")

    assert (first, again) == (CampaignReceipt("spring"), CampaignReceipt("spring", replayed=True))
    assert stored_keys(redis_client, key_prefix) == keys_after_first
    assert store.lane_depth(LANE) == 2500
    assert dispatcher.campaign_status("spring")["total"] == 2500


@pytest.mark.parametrize(
    "change",
    [
        {"recipients": recipients(2500)[:-1]},
        {"recipients": [*recipients(2499), {"phone": numbers(1, first=5000)[0], "name": "Eve"}]},
        {"template": MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Bye {name}"})},
        {"priority": "transactional"},
        {"deadline_s": 600.0},
    ],
    ids=["one-row-less", "last-row-changed", "template", "priority", "deadline"],
)
def test_the_same_id_with_other_content_is_a_conflict_and_stores_nothing(
    dispatcher: Dispatcher, redis_client: redis.Redis, key_prefix: str, change: dict[str, object]
) -> None:
    dispatcher.campaign(TEMPLATE, recipients(2500), campaign_id="spring")
    keys_before = stored_keys(redis_client, key_prefix)
    call: dict[str, object] = {"template": TEMPLATE, "recipients": recipients(2500), **change}

    with pytest.raises(IdempotencyConflict) as refused:
        dispatcher.campaign(campaign_id="spring", **call)  # type: ignore[arg-type]

    assert refused.value.existing == "spring"
    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("campaign_id", "spring")
    assert "other content" in problem.rule
    assert stored_keys(redis_client, key_prefix) == keys_before


def test_a_csv_and_the_same_rows_inline_are_the_same_campaign(dispatcher: Dispatcher, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("phone,name\n79160000000,Ann\n79160000001,Bob\n")
    dispatcher.campaign(TEMPLATE, path, campaign_id="same")

    rows = [{"phone": "79160000000", "name": "Ann"}, {"phone": "79160000001", "name": "Bob"}]
    assert dispatcher.campaign_with_receipt(TEMPLATE, rows, campaign_id="same").replayed


def test_a_replay_after_a_call_that_died_while_checking_creates_the_campaign_once(
    dispatcher: Dispatcher,
    store: Store,
    make_messages: MessageFactory,
    redis_client: redis.Redis,
    key_prefix: str,
) -> None:
    # A producer died after storing 1,500 held messages: never committed, so nothing of it went out.
    dead = claim_held(store, "spring", lease_s=0.5)
    store.add_messages(make_messages(1500, campaign="spring"), held_by=dead)
    time.sleep(0.6)

    receipt = dispatcher.campaign_with_receipt(TEMPLATE, recipients(2500), campaign_id="spring")

    assert receipt == CampaignReceipt("spring")
    assert dispatcher.campaign_status("spring")["total"] == 2500
    assert message_keys(redis_client, key_prefix) == 2500
    assert store.lane_depth(LANE) == 2500
    assert store.held_campaigns() == []
    # The dead producer's claim is fenced off: it can neither add, commit nor discard.
    with pytest.raises(StoreUnavailable, match="lost its claim"):
        store.add_messages(make_messages(1, campaign="spring"), held_by=dead)
    assert not store.commit_campaign("spring", owner=dead, content_digest="x")
    assert store.discard_campaign("spring", owner=dead) == 0
    assert dispatcher.campaign_status("spring")["total"] == 2500


def test_a_replay_waits_for_the_producer_still_checking_and_answers_its_campaign(
    dispatcher: Dispatcher, accounts: dict[str, Account], settings: Settings, store: Store
) -> None:
    gate = threading.Event()

    def slow_rows() -> Iterator[dict[str, str]]:
        yield from recipients(1500)
        gate.wait(timeout=10)  # the first producer is still reading its recipients
        yield from recipients(1000, first=1500)

    first: list[CampaignReceipt] = []
    with Dispatcher(Store.from_settings(settings), accounts, settings) as other:
        thread = threading.Thread(
            target=lambda: first.append(
                other.campaign_with_receipt(TEMPLATE, slow_rows(), campaign_id="spring")
            )
        )
        thread.start()
        while store.campaign_accepted("spring") is None:
            time.sleep(0.01)
        threading.Timer(3.0, gate.set).start()  # longer than the 2 s lease: renewals keep it

        replay = dispatcher.campaign_with_receipt(TEMPLATE, recipients(2500), campaign_id="spring")
        thread.join(timeout=20)

    assert first == [CampaignReceipt("spring")]
    assert replay == CampaignReceipt("spring", replayed=True)
    assert dispatcher.campaign_status("spring")["total"] == 2500
    assert store.lane_depth(LANE) == 2500


def test_producers_replaying_at_the_same_moment_create_exactly_one_campaign(
    accounts: dict[str, Account], settings: Settings, store: Store, redis_client: redis.Redis, key_prefix: str
) -> None:
    producers = 4
    start = threading.Barrier(producers)
    receipts: list[CampaignReceipt] = []
    errors: list[BaseException] = []

    def send() -> None:
        with Dispatcher(Store.from_settings(settings), accounts, settings) as producer:
            start.wait(timeout=10)
            try:
                receipts.append(
                    producer.campaign_with_receipt(TEMPLATE, recipients(5000), campaign_id="spring")
                )
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(receipt.replayed for receipt in receipts) == [False, True, True, True]
    assert {receipt.id for receipt in receipts} == {"spring"}
    assert store.campaign_counts("spring")["total"] == 5000
    assert message_keys(redis_client, key_prefix) == 5000
    assert store.lane_depth(LANE) == 5000


def test_a_replay_finishes_a_release_its_first_call_could_not(
    dispatcher: Dispatcher, store: Store, redis_client: redis.Redis, key_prefix: str
) -> None:
    dispatcher.campaign(TEMPLATE, recipients(10), campaign_id="spring")
    # As if the first call's release stopped after the last push, before it ended the phase.
    redis_client.hset(f"{{{key_prefix}}}:c:spring", mapping={"ph": "releasing", "rl": 10, "cm": 0})
    redis_client.zadd(f"{{{key_prefix}}}:held", {"spring": 0})

    assert dispatcher.campaign_with_receipt(TEMPLATE, recipients(10), campaign_id="spring").replayed

    assert store.held_campaigns() == []
    assert store.lane_depth(LANE) == 10


def test_a_producer_that_stalls_past_its_lease_loses_the_campaign_to_the_replay(
    dispatcher: Dispatcher, store: Store, make_messages: MessageFactory
) -> None:
    stalled = claim_held(store, "spring", lease_s=0.3)
    time.sleep(0.4)
    dispatcher.campaign(TEMPLATE, recipients(10), campaign_id="spring")

    assert not store.renew_campaign("spring", owner=stalled, lease_s=30)
    with pytest.raises(StoreUnavailable) as lost:
        store.add_messages(make_messages(5, campaign="spring"), held_by=stalled)
    assert lost.value.campaign == "spring"
    assert dispatcher.campaign_status("spring")["total"] == 10


def test_a_campaign_id_that_breaks_the_rule_is_refused(dispatcher: Dispatcher) -> None:
    with pytest.raises(InvalidMessage) as refused:
        dispatcher.campaign(TEMPLATE, recipients(1), campaign_id="spring:ids")

    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("campaign_id", "spring:ids")
    assert dispatcher.campaign_accepted("spring:ids") is None
