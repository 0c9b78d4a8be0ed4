"""Scheduled sends through real worker and beat processes and the simulator: never early, released
within about a second of their time, cancellable; a closed sending window holds a message."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.errors import InvalidMessage
from dispatcher.models.revicom import RevicomSms
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.windows import SendingWindow, zone_of
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for

pytestmark = pytest.mark.integration
REVICOM_SEND = "/revicom/api/v1/message"
SMARTSWITCH_SEND = "/smartswitch/api/message"


def sms(number: str) -> RevicomSms:
    return RevicomSms(destination=number, sender_name="SHOP", text="Your table is ready")


def test_scheduled_messages_go_at_their_time_never_before(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    pipeline.start_beat()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    start = time.time()
    send_times = {start + 3.0 + 0.37 * index: number for index, number in enumerate(numbers(6))}

    ids = {dispatcher.send(sms(number), send_at=at): at for at, number in send_times.items()}

    assert {dispatcher.status(i).state for i in ids} == {"scheduled"}  # type: ignore[union-attr]

    def sent_items() -> list[tuple[float, str]]:
        return [
            (r["time"], item["destination"]) for r in sim.requests(path=REVICOM_SEND) for item in r["body"]
        ]

    wait_for(lambda: len(sent_items()) == 6, timeout_s=15, what="all six sent")
    by_number = {number: at for at, number in send_times.items()}
    delays = [sent_at - by_number[number] for sent_at, number in sent_items()]
    print(f"release delay: median {statistics.median(delays):.3f} s, max {max(delays):.3f} s")
    assert min(delays) >= 0, delays
    assert max(delays) <= 1.5, delays


def test_a_cancelled_scheduled_message_is_never_sent(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    pipeline.start_beat()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    kept, cancelled = numbers(2)
    at = datetime.now(UTC) + timedelta(seconds=1.5)

    kept_id = dispatcher.send(sms(kept), send_at=at)
    cancelled_id = dispatcher.send(sms(cancelled), send_at=at)
    assert dispatcher.cancel(cancelled_id) == "cancelled"

    wait_for(lambda: dispatcher.status(kept_id).state == "submitted", timeout_s=10, what="kept sent")  # type: ignore[union-attr]
    time.sleep(0.5)
    destinations = [item["destination"] for r in sim.requests(path=REVICOM_SEND) for item in r["body"]]
    assert destinations == [kept]
    assert dispatcher.status(cancelled_id).state == "cancelled"  # type: ignore[union-attr]


def test_a_smartswitch_sms_outside_its_window_waits_until_it_opens(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    pipeline.start_beat()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    number = numbers(1)[0]
    local_hour = datetime.now(zone_of(number)).hour
    closed_now = SendingWindow(hours={(local_hour + 2) % 24})

    message_id = dispatcher.send(SmartswitchSms(destination_number=number, body="Hi"), window=closed_now)

    opens_at = store.next_release_at()
    assert opens_at is not None
    assert datetime.fromtimestamp(opens_at, zone_of(number)).hour == (local_hour + 2) % 24
    time.sleep(2)
    assert sim.requests(path=SMARTSWITCH_SEND) == []
    assert dispatcher.status(message_id).state == "scheduled"  # type: ignore[union-attr]
    # Let the window open now: move the message's release time, as the clock would.
    store._client.zadd(store._keys.scheduled, {message_id: time.time()})
    wait_for(lambda: dispatcher.status(message_id).state == "submitted", timeout_s=10, what="sent once open")  # type: ignore[union-attr]
    assert len(sim.requests(path=SMARTSWITCH_SEND)) == 1


def test_a_message_scheduled_days_ahead_keeps_its_whole_time_to_live_from_its_send_time(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    # Before, the deadline counted from intake: a send_at beyond it was clamped to the deadline and
    # the message expired unsent.
    pipeline.start_worker()
    pipeline.start_beat()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    send_at = store.now() + 3 * 86400

    message_id = dispatcher.send(sms(numbers(1)[0]), send_at=send_at, deadline_s=3600)

    record = store.get(message_id)
    assert record is not None
    assert record.state == "scheduled"
    assert record.deadline == pytest.approx(send_at + 3600, abs=0.01)
    assert store.next_release_at() == pytest.approx(send_at, abs=0.01)
    # Three days pass for the schedule: its release time comes now, as the clock would bring it.
    store._client.zadd(store._keys.scheduled, {message_id: store.now()})
    wait_for(
        lambda: dispatcher.status(message_id).state == "submitted", timeout_s=15, what="sent at its time"
    )  # type: ignore[union-attr]
    assert len(sim.requests(path=REVICOM_SEND)) == 1


def test_a_send_time_beyond_the_horizon_or_long_past_is_refused_and_nothing_stored(
    store: Store, accounts: dict[str, Account], pipeline: PipelineProcesses
) -> None:
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    now = store.now()

    for send_at, rule in ((now + 40 * 86400, "at most 31 days ahead"), (now - 3600, "in the past")):
        with pytest.raises(InvalidMessage) as refused:
            dispatcher.send(sms(numbers(1)[0]), send_at=send_at)
        assert [problem.field for problem in refused.value.problems] == ["send_at"]
        assert rule in refused.value.problems[0].rule
    assert store.next_release_at() is None
    assert store.lane_depth("revicom:transactional") == 0
