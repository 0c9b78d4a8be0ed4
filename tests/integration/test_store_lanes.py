"""Lane pauses and the runner leases that cap dispatch tasks per lane (real Redis)."""

from __future__ import annotations

import time

import pytest

from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.taskqueue import kick

from .conftest import MessageFactory

pytestmark = pytest.mark.integration

LANE = "revicom:bulk"


def test_leases_cap_the_runners_of_a_lane(store: Store) -> None:
    tokens = [store.claim_runner(LANE, max_runners=2, lease_s=30) for _ in range(3)]

    assert tokens[0] is not None
    assert tokens[1] is not None
    assert tokens[0] != tokens[1]
    assert tokens[2] is None
    store.release_runner(LANE, tokens[0])
    assert store.claim_runner(LANE, max_runners=2, lease_s=30) is not None


def test_an_expired_lease_frees_its_slot_and_cannot_be_renewed(store: Store) -> None:
    token = store.claim_runner(LANE, max_runners=1, lease_s=0.4)
    assert token is not None
    time.sleep(0.2)
    assert store.renew_runner(LANE, token, lease_s=0.4)  # held 0.4 s from now
    time.sleep(0.25)
    assert store.claim_runner(LANE, max_runners=1, lease_s=0.4) is None, "renewed: still held"
    time.sleep(0.25)

    successor = store.claim_runner(LANE, max_runners=1, lease_s=10)

    assert successor is not None
    assert not store.renew_runner(LANE, token, lease_s=10)
    assert store.claim_runner(LANE, max_runners=1, lease_s=10) is None, "the successor's slot"


def test_a_lease_past_its_expiry_is_not_renewed_even_before_anyone_claims_its_slot(store: Store) -> None:
    # A task that lost its lease must stop: the slot may be given away at any moment.
    token = store.claim_runner(LANE, max_runners=1, lease_s=0.2)
    assert token is not None
    time.sleep(0.3)

    assert not store.renew_runner(LANE, token, lease_s=10)
    assert store.claim_runner(LANE, max_runners=1, lease_s=10) is not None


def test_claiming_again_with_the_same_token_finds_its_own_lease(store: Store, key_prefix: str) -> None:
    # What a retry after a lost reply does: one lease, not two (a lock of one slot stays usable).
    keys = [f"{{{key_prefix}}}:lane:{LANE}:runners"]

    assert store._scripts.claim_runner(keys=keys, args=[1, 30, "token-a"]) == 1
    assert store._scripts.claim_runner(keys=keys, args=[1, 30, "token-a"]) == 1
    assert store._scripts.claim_runner(keys=keys, args=[1, 30, "token-b"]) == 0


def test_pause_with_and_without_expiry(store: Store, make_messages: MessageFactory) -> None:
    store.add_messages(make_messages(2, lane=LANE))
    store.pause_lane(LANE, "4012 bad credentials")

    (info,) = store.lanes()
    assert (info.depth, info.paused, info.paused_for_s) == (2, "4012 bad credentials", None)
    assert store.lane_paused(LANE) == "4012 bad credentials"
    assert store.resume_lane(LANE)
    assert not store.resume_lane(LANE)

    store.pause_lane(LANE, "429", for_s=0.2)
    (info,) = store.lanes()
    assert info.paused == "429"
    assert info.paused_for_s is not None
    assert 0 < info.paused_for_s <= 0.2
    time.sleep(0.25)
    assert store.lane_paused(LANE) is None


def test_lanes_needing_a_runner_are_unpaused_nonempty_and_unleased(
    store: Store, make_messages: MessageFactory
) -> None:
    for lane in ("a:bulk", "b:bulk", "c:bulk", "d:bulk"):
        store.add_messages(make_messages(1, lane=lane))
    store.add_messages(make_messages(0, lane="e:bulk"))
    store.pause_lane("b:bulk", "paused")
    store.claim_runner("c:bulk", max_runners=1, lease_s=10)
    store.claim_runner("d:bulk", max_runners=1, lease_s=0.1)
    taken = store.take_batch("a:bulk", max_size=1, worker="w", take_timeout_s=30)
    store.add_messages(make_messages(1, lane="a:bulk"))
    time.sleep(0.15)  # d's lease has expired

    assert taken is not None
    assert store.lanes_needing_runner() == ["a:bulk", "d:bulk"]
    assert {info.name: info.runners for info in store.lanes()} == {
        "a:bulk": 0,
        "b:bulk": 0,
        "c:bulk": 1,
        "d:bulk": 0,
    }


class _RecordingSender:
    """Stands in for Celery's send_task: kick's decision, not the broker, is under test."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_task(self, name: str, *, args: list[str], queue: str, **_: object) -> None:
        self.sent.append(queue)


def test_a_bulk_lane_gets_fewer_runners_than_a_transactional_one(store: Store) -> None:
    settings = Settings(max_runners_per_lane=4, max_runners_per_bulk_lane=2)
    sender = _RecordingSender()

    bulk = [kick(store, sender, "revicom:bulk", settings) for _ in range(5)]
    transactional = [kick(store, sender, "revicom:transactional", settings) for _ in range(5)]

    assert bulk == [True, True, False, False, False]
    assert transactional == [True, True, True, True, False]
    assert sender.sent == ["bulk"] * 2 + ["transactional"] * 4
