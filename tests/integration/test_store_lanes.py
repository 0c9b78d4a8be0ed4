"""Lane pauses and the runner leases that cap dispatch tasks per lane (real Redis)."""

from __future__ import annotations

import time

import pytest

from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.taskqueue import kick

from .conftest import MessageFactory

pytestmark = pytest.mark.integration

NOW = 1_800_000_000.0
LANE = "revicom:bulk"


def test_leases_cap_the_runners_of_a_lane(store: Store) -> None:
    tokens = [store.claim_runner(LANE, max_runners=2, lease_s=30, now=NOW) for _ in range(3)]

    assert tokens[0] is not None
    assert tokens[1] is not None
    assert tokens[0] != tokens[1]
    assert tokens[2] is None
    store.release_runner(LANE, tokens[0])
    assert store.claim_runner(LANE, max_runners=2, lease_s=30, now=NOW) is not None


def test_an_expired_lease_frees_its_slot_and_cannot_be_renewed(store: Store) -> None:
    token = store.claim_runner(LANE, max_runners=1, lease_s=10, now=NOW)
    assert token is not None
    assert store.renew_runner(LANE, token, lease_s=10, now=NOW + 5)  # now held until NOW + 15
    assert store.claim_runner(LANE, max_runners=1, lease_s=10, now=NOW + 14) is None

    successor = store.claim_runner(LANE, max_runners=1, lease_s=10, now=NOW + 15)

    assert successor is not None
    assert not store.renew_runner(LANE, token, lease_s=10, now=NOW + 16)
    assert store.claim_runner(LANE, max_runners=1, lease_s=10, now=NOW + 16) is None, "the successor's slot"


def test_pause_with_and_without_expiry(store: Store, make_messages: MessageFactory) -> None:
    store.add_messages(make_messages(2, lane=LANE), now=NOW)
    store.pause_lane(LANE, "4012 bad credentials")

    (info,) = store.lanes(now=NOW)
    assert (info.depth, info.paused, info.paused_for_s) == (2, "4012 bad credentials", None)
    assert store.lane_paused(LANE) == "4012 bad credentials"
    assert store.resume_lane(LANE)
    assert not store.resume_lane(LANE)

    store.pause_lane(LANE, "429", for_s=0.2)
    (info,) = store.lanes(now=NOW)
    assert info.paused == "429"
    assert info.paused_for_s is not None
    assert 0 < info.paused_for_s <= 0.2
    time.sleep(0.25)
    assert store.lane_paused(LANE) is None


def test_lanes_needing_a_runner_are_unpaused_nonempty_and_unleased(
    store: Store, make_messages: MessageFactory
) -> None:
    for lane in ("a:bulk", "b:bulk", "c:bulk", "d:bulk"):
        store.add_messages(make_messages(1, lane=lane), now=NOW)
    store.add_messages(make_messages(0, lane="e:bulk"), now=NOW)
    store.pause_lane("b:bulk", "paused")
    store.claim_runner("c:bulk", max_runners=1, lease_s=10, now=NOW)
    store.claim_runner("d:bulk", max_runners=1, lease_s=10, now=NOW - 20)  # long expired
    taken = store.take_batch("a:bulk", max_size=1, worker="w", now=NOW, take_timeout_s=30)
    store.add_messages(make_messages(1, lane="a:bulk"), now=NOW)

    assert taken is not None
    assert store.lanes_needing_runner(now=NOW) == ["a:bulk", "d:bulk"]


class _RecordingSender:
    """Stands in for Celery's send_task: kick's decision, not the broker, is under test."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_task(self, name: str, *, args: list[str], queue: str, **_: object) -> None:
        self.sent.append(queue)


def test_a_bulk_lane_gets_fewer_runners_than_a_transactional_one(store: Store) -> None:
    settings = Settings(max_runners_per_lane=4, max_runners_per_bulk_lane=2)
    sender = _RecordingSender()

    bulk = [kick(store, sender, "revicom:bulk", settings, now=NOW) for _ in range(5)]
    transactional = [kick(store, sender, "revicom:transactional", settings, now=NOW) for _ in range(5)]

    assert bulk == [True, True, False, False, False]
    assert transactional == [True, True, True, True, False]
    assert sender.sent == ["bulk"] * 2 + ["transactional"] * 4
