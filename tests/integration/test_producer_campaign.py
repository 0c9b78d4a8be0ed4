"""Campaigns on a real Redis (no worker): CSV streaming in constant memory, counters, all-or-nothing
checking, templates and cancelling."""

from __future__ import annotations

import csv
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from dispatcher import Dispatcher, InvalidMessage, MessageTemplate
from dispatcher.accounts import Account
from dispatcher.models.revicom import RevicomSms
from dispatcher.settings import Settings
from dispatcher.store import Store
from tests.integration.test_producer_intake import stored_keys
from tests.integration.worker_fixtures import numbers

pytestmark = pytest.mark.integration

TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hello {name}, 20% off today"})


@pytest.fixture
def dispatcher(
    store: Store, accounts: dict[str, Account], redis_url: str, key_prefix: str
) -> Iterator[Dispatcher]:
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix)
    with Dispatcher(store, accounts, settings) as producer:
        yield producer


def write_csv(path: Path, rows: int, *, bad_row: int | None = None) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "name"])
        for index, number in enumerate(numbers(rows)):
            writer.writerow(["12345" if index == bad_row else number, f"Ann {index}"])
    return path


def test_a_csv_campaign_stores_every_row_with_its_text_and_counts_them(
    dispatcher: Dispatcher, store: Store, tmp_path: Path
) -> None:
    campaign_id = dispatcher.campaign(TEMPLATE, write_csv(tmp_path / "r.csv", 2500), campaign_id="spring")

    assert campaign_id == "spring"
    counts = dispatcher.campaign_status("spring")
    assert (counts["total"], counts["queued"]) == (2500, 2500)
    ids = list(store.campaign_message_ids("spring"))
    last = store.get(ids[-1])
    assert last is not None
    assert last.campaign == "spring"
    assert orjson.loads(last.wire)["content"] == "Hello Ann 2499, 20% off today"
    assert store.lane_depth("revicom:bulk") == 2500


def test_campaign_memory_does_not_grow_with_the_number_of_rows(
    dispatcher: Dispatcher, tmp_path: Path
) -> None:
    def peak_bytes(rows: int) -> int:
        path = write_csv(tmp_path / f"{rows}.csv", rows)
        tracemalloc.start()
        try:
            dispatcher.campaign(TEMPLATE, path)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_bytes(4000), peak_bytes(20_000)
    # Five times the rows, about the same peak (one chunk of 1,000 in memory); a list of all rows
    # would make it grow several-fold.
    assert large < small * 1.5, (small, large)


def test_a_bad_row_stores_nothing_and_names_the_row(
    dispatcher: Dispatcher, tmp_path: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    with pytest.raises(InvalidMessage) as raised:
        dispatcher.campaign(TEMPLATE, write_csv(tmp_path / "r.csv", 3000, bad_row=2100))

    assert [problem.field for problem in raised.value.problems] == ["line 2102, column phone"]
    assert_nothing_left(dispatcher.store, redis_client, key_prefix)


def test_a_missing_template_variable_is_named(dispatcher: Dispatcher) -> None:
    with pytest.raises(
        InvalidMessage,
        match=r"recipients\[1\]\.name=None: the template uses \{name\}; this recipient has no value",
    ):
        dispatcher.campaign(TEMPLATE, [{"phone": "79161234567", "name": "Ann"}, {"phone": "79161234568"}])


def test_a_one_shot_iterator_with_a_bad_row_stores_nothing_either(
    dispatcher: Dispatcher, redis_client: redis.Redis, key_prefix: str
) -> None:
    rows = iter([*numbers(1500), "12345"])

    with pytest.raises(InvalidMessage, match=r"recipients\[1500\]\.phone"):
        dispatcher.campaign(MessageTemplate(RevicomSms, {"sender_name": "S", "text": "Hi"}), rows)

    assert_nothing_left(dispatcher.store, redis_client, key_prefix)


def assert_nothing_left(store: Store, client: redis.Redis, prefix: str) -> None:
    """No message, lane or campaign key; only the statistics, counting the held rows as discarded."""
    assert stored_keys(client, prefix) == [f"{{{prefix}}}:stats".encode()]
    statistics = store.statistics()
    assert {count.state: count.count for count in statistics.current} == {"queued": 0}
    assert {count.state for count in statistics.entered} == {"queued", "discarded"}


def test_cancel_campaign_cancels_what_has_not_gone_out(dispatcher: Dispatcher) -> None:
    template = MessageTemplate(RevicomSms, {"sender_name": "S", "text": "Hi"})
    campaign_id = dispatcher.campaign(template, numbers(1200))

    counts = dispatcher.cancel_campaign(campaign_id)

    assert (counts["total"], counts["cancelled"], counts["queued"]) == (1200, 1200, 0)
