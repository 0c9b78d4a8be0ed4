"""Campaign counters stay exact (they always sum to total and match the records) across seeded random
walks of every store operation (real Redis)."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import redis

from dispatcher.providers.outcomes import Rejected, Submitted
from dispatcher.store import Store
from dispatcher.store.states import ALL_STATES, FINAL_STATES, QUEUED, SENDING

from .conftest import MessageFactory

pytestmark = pytest.mark.integration

LANE = "revicom:bulk"
CAMPAIGN = "walk"


def assert_counters_exact(store: Store, ids: list[str]) -> None:
    counts = store.campaign_counts(CAMPAIGN)
    actual = Counter(store.get(message_id).state for message_id in ids)  # type: ignore[union-attr]
    assert counts["total"] == len(ids)
    assert sum(counts[state] for state in ALL_STATES) == counts["total"]
    assert {state: counts[state] for state in ALL_STATES if counts[state]} == dict(actual)
    # The store-wide statistics (Prometheus) agree: every message here is one of this campaign's.
    statistics = store.statistics()
    groups = {(c.provider, c.channel) for c in [*statistics.current, *statistics.entered]}
    assert groups == {("revicom", "sms")}
    current = {count.state: count.count for count in statistics.current if count.count}
    assert current == {state: n for state, n in actual.items() if state not in FINAL_STATES}
    entered = {count.state: count.count for count in statistics.entered}
    assert entered[QUEUED] >= len(ids)
    for state in ALL_STATES:  # a final state may still move on ('unknown' settled by a report)
        assert entered.get(state, 0) >= actual[state], state


@pytest.mark.parametrize("seed", range(4))
def test_counters_sum_to_total_across_random_operations(
    seed: int, store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    rng = random.Random(seed)
    ids: list[str] = []
    open_batches: dict[str, list[str]] = {}

    def add() -> None:
        messages = make_messages(rng.randint(1, 8), campaign=CAMPAIGN)
        ids.extend(store.add_messages(messages))

    def take() -> None:
        batch = store.take_batch(LANE, max_size=rng.randint(1, 6), worker="w", take_timeout_s=5)
        # A take may find only ids whose messages were cancelled or finished meanwhile: nothing
        # of it is open (how often depends on retries falling due by Redis' clock).
        if batch and batch.items:
            open_batches[batch.id] = [item.id for item in batch.items]

    def finish_some() -> None:
        if not open_batches:
            return
        batch_id = rng.choice(sorted(open_batches))
        members = open_batches[batch_id]
        chosen = rng.sample(members, rng.randint(1, len(members)))
        action = rng.choice(["record", "requeue", "retry", "settle"])
        if action == "record":
            outcomes = [
                (i, Submitted(f"P{i}") if rng.random() < 0.7 else Rejected("4000", "bad")) for i in chosen
            ]
            store.mark_posting(batch_id, tag=f"T{batch_id}", reclaim_after_s=80)
            store.record_outcomes(batch_id, outcomes, account="revicom")
        elif action == "requeue":
            store.requeue(batch_id, chosen, reason="give back")
        elif action == "retry":
            store.retry_later(batch_id, [(i, rng.choice([0.0, 0.01, 60.0])) for i in chosen], reason="503")
        else:
            store.settle(batch_id, chosen, state=rng.choice(["failed", "unknown", "expired"]), reason="x")
        open_batches[batch_id] = [i for i in members if i not in chosen]
        if not open_batches[batch_id]:
            del open_batches[batch_id]

    def report() -> None:
        if ids:
            target = rng.choice(
                ["sent", "delivered", "read", "undelivered", "failed", "expired", "cancelled"]
            )
            store.transition(rng.choice(ids), target, reason="dlr")

    def cancel() -> None:
        if ids:
            store.cancel(rng.choice(ids))

    def release() -> None:
        store.release_due_retries()

    operations = [add, take, take, finish_some, finish_some, report, cancel, release]
    for _step in range(150):
        rng.choice(operations)()
    assert_counters_exact(store, ids)

    # Nothing lost: once open batches are given back, every queued message waits in the lane or in
    # the retry zset, and nothing is left sending.
    for batch_id, members in list(open_batches.items()):
        store.requeue(batch_id, members, reason="drain")
    root = f"{{{key_prefix}}}:"
    waiting = {raw.decode() for raw in redis_client.lrange(f"{root}lane:{LANE}", 0, -1)}  # type: ignore[union-attr]
    waiting |= {raw.decode() for raw in redis_client.zrange(f"{root}retry", 0, -1)}  # type: ignore[union-attr]
    states = {i: store.get(i).state for i in ids}  # type: ignore[union-attr]
    assert SENDING not in states.values()
    assert {i for i, state in states.items() if state == QUEUED} <= waiting
    assert_counters_exact(store, ids)
