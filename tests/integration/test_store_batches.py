"""Batches: atomic takes, posting marks, recorded outcomes, give-backs and retries (real Redis)."""

from __future__ import annotations

import threading

import pytest
import redis

from dispatcher.providers.outcomes import Rejected, Submitted
from dispatcher.store import Store
from dispatcher.store.states import CANCELLED, FAILED, QUEUED, REJECTED, SENDING, SUBMITTED, UNKNOWN

from .conftest import MessageFactory

pytestmark = pytest.mark.integration

NOW = 1_800_000_000.0
LANE = "revicom:bulk"


def take(store: Store, max_size: int, *, now: float = NOW, timeout_s: float = 30.0) -> list[str]:
    batch = store.take_batch(LANE, max_size=max_size, worker="w1", now=now, take_timeout_s=timeout_s)
    assert batch is not None
    return [item.id for item in batch.items]


def lane_ids(redis_client: redis.Redis, key_prefix: str) -> list[str]:
    return [raw.decode() for raw in redis_client.lrange(f"{{{key_prefix}}}:lane:{LANE}", 0, -1)]  # type: ignore[union-attr]


def test_take_returns_wire_items_and_marks_them_sending(store: Store, make_messages: MessageFactory) -> None:
    messages = make_messages(5)
    store.add_messages(messages, now=NOW)

    batch = store.take_batch(LANE, max_size=3, worker="w1", now=NOW, take_timeout_s=30)

    assert batch is not None
    assert (batch.lane, batch.state, batch.tag) == (LANE, "taken", None)
    assert [(i.id, i.wire, i.attempts, i.deadline) for i in batch.items] == [
        (m.id, m.wire, 0, m.deadline) for m in messages[:3]
    ]
    assert all(store.get(m.id).state == SENDING for m in messages[:3])  # type: ignore[union-attr]
    assert store.get_batch(batch.id) == batch
    assert store.lane_depth(LANE) == 2


def test_take_from_an_empty_lane_gives_nothing(store: Store) -> None:
    assert store.take_batch(LANE, max_size=10, worker="w", now=NOW, take_timeout_s=30) is None


def test_cancelled_ids_are_skipped_and_the_batch_is_filled_from_behind(
    store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(6)
    store.add_messages(messages, now=NOW)
    assert store.cancel(messages[0].id, now=NOW) == CANCELLED
    assert store.cancel(messages[2].id, now=NOW) == CANCELLED

    assert take(store, 3) == [messages[1].id, messages[3].id, messages[4].id]
    assert store.get(messages[0].id).state == CANCELLED  # type: ignore[union-attr]
    assert store.lane_depth(LANE) == 1


def test_cancel_is_refused_once_sending_and_unknown_ids_answer_empty(
    store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(1)
    store.add_messages(messages, now=NOW)
    take(store, 1)

    assert store.cancel(messages[0].id, now=NOW) == SENDING
    assert store.cancel("no-such-id", now=NOW) == ""
    assert store.get("no-such-id") is None
    assert store.get(messages[0].id).history[-1].reason == "ignored:cancel"  # type: ignore[union-attr]


def test_cancel_never_cancels_what_the_provider_holds_unless_a_stop_is_confirmed(
    store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(1)
    store.add_messages(messages, now=NOW)
    batch = store.take_batch(LANE, max_size=1, worker="w1", now=NOW, take_timeout_s=30)
    assert batch is not None
    store.record_outcomes(batch.id, [(messages[0].id, Submitted("p-1"))], account="revicom", now=NOW)

    assert store.cancel(messages[0].id, now=NOW) == SUBMITTED
    assert store.confirm_stopped(messages[0].id, now=NOW, reason="stopped at the provider")
    assert store.get(messages[0].id).state == CANCELLED  # type: ignore[union-attr]


def test_concurrent_takers_get_every_id_exactly_once(
    redis_url: str, key_prefix: str, store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(3000)
    store.add_messages(messages, now=NOW)
    taken: list[list[str]] = [[] for _ in range(6)]
    start = threading.Barrier(len(taken))

    def worker(index: int) -> None:
        own = Store(redis.Redis.from_url(redis_url), prefix=key_prefix)
        start.wait()
        while batch := own.take_batch(LANE, max_size=37, worker=f"w{index}", now=NOW, take_timeout_s=30):
            taken[index] += [item.id for item in batch.items]

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(taken))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [message_id for ids in taken for message_id in ids]
    assert sorted(every) == sorted(m.id for m in messages)
    assert len(set(every)) == len(every)
    assert sum(1 for ids in taken if ids) > 1, "the takers did not actually compete"


def test_posting_counts_an_attempt_and_moves_the_reclaim_time(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    store.add_messages(make_messages(3), now=NOW)
    batch = store.take_batch(LANE, max_size=3, worker="w", now=NOW, take_timeout_s=30)
    assert batch is not None

    assert store.mark_posting(batch.id, tag="tag-1", now=NOW + 1, reclaim_at=NOW + 81)
    assert store.mark_posting(
        batch.id, tag="tag-2", now=NOW + 2, reclaim_at=NOW + 82, ids=[batch.items[0].id]
    )

    posted = store.get_batch(batch.id)
    assert posted is not None
    assert (posted.state, posted.tag, posted.posting_at) == ("posting", "tag-2", NOW + 2)
    assert [item.attempts for item in posted.items] == [2, 1, 1]
    assert redis_client.zscore(f"{{{key_prefix}}}:inflight", batch.id) == NOW + 82
    assert not store.mark_posting("gone", tag="t", now=NOW, reclaim_at=NOW)


def test_outcomes_index_provider_ids_set_retention_and_empty_the_batch(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(3, idempotency_keys=["k0", "k1", "k2"])
    store.add_messages(messages, now=NOW)
    batch = store.take_batch(LANE, max_size=3, worker="w", now=NOW, take_timeout_s=30)
    assert batch is not None
    store.mark_posting(batch.id, tag="t", now=NOW, reclaim_at=NOW + 80)

    store.record_outcomes(
        batch.id, [(messages[0].id, Submitted("P-0")), (messages[1].id, Rejected("4000", "Invalid\nmsisdn"))],
        account="revicom", now=NOW + 1,
    )  # fmt: skip

    assert store.find_by_provider_id("revicom", "P-0") == messages[0].id
    submitted, rejected = store.get(messages[0].id), store.get(messages[1].id)
    assert submitted is not None
    assert rejected is not None
    assert (submitted.state, submitted.provider_message_id) == (SUBMITTED, "P-0")
    assert (rejected.state, rejected.reason) == (REJECTED, "4000 Invalid msisdn")
    root = f"{{{key_prefix}}}:"
    assert redis_client.ttl(f"{root}m:{messages[1].id}") == store._retention_s
    assert redis_client.ttl(f"{root}idem:k1") == store._retention_s
    assert redis_client.ttl(f"{root}m:{messages[0].id}") == -1, "submitted is not final yet"
    assert [item.id for item in store.get_batch(batch.id).items] == [messages[2].id]  # type: ignore[union-attr]

    store.record_outcomes(batch.id, [(messages[2].id, Submitted("P-2"))], account="revicom", now=NOW + 2)

    assert store.get_batch(batch.id) is None
    assert redis_client.zscore(f"{root}inflight", batch.id) is None


def test_requeue_puts_ids_back_at_the_lane_head_in_order(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(5)
    store.add_messages(messages, now=NOW)
    first = store.take_batch(LANE, max_size=3, worker="w", now=NOW, take_timeout_s=30)
    assert first is not None

    store.requeue(first.id, [item.id for item in first.items], reason="account paused", now=NOW + 1)

    assert lane_ids(redis_client, key_prefix) == [m.id for m in messages]
    assert store.get_batch(first.id) is None
    record = store.get(messages[0].id)
    assert record is not None
    assert (record.state, record.attempts, record.history[-1].reason) == (QUEUED, 0, "account paused")
    assert take(store, 5) == [m.id for m in messages]


def test_requeue_leaves_a_message_that_already_moved_on(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(2)
    store.add_messages(messages, now=NOW)
    batch = store.take_batch(LANE, max_size=2, worker="w", now=NOW, take_timeout_s=30)
    assert batch is not None
    store.record_outcomes(batch.id, [(messages[0].id, Submitted("P"))], account="revicom", now=NOW)

    store.requeue(batch.id, [messages[0].id, messages[1].id], reason="late give-back", now=NOW + 1)

    assert lane_ids(redis_client, key_prefix) == [messages[1].id]
    assert store.get(messages[0].id).state == SUBMITTED  # type: ignore[union-attr]


def test_beat_cannot_reclaim_a_batch_a_worker_has_marked_posting(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    # The race: beat reads a due batch while it is still `taken`, the worker marks it posting and
    # sends; beat's give-back must then do nothing, or the messages would be taken and sent again.
    messages = make_messages(3)
    store.add_messages(messages, now=NOW)
    batch = store.take_batch(LANE, max_size=3, worker="w", now=NOW, take_timeout_s=30)
    assert batch is not None
    assert store.mark_posting(batch.id, tag="t1", now=NOW + 1, reclaim_at=NOW + 100)

    ids = [item.id for item in batch.items]
    assert store.requeue(batch.id, ids, reason="beat", now=NOW + 2, only_if_state="taken") == 0
    assert store.requeue(batch.id, ids, reason="reconcile", now=NOW + 2, only_if_tag="other") == 0

    assert lane_ids(redis_client, key_prefix) == []
    assert {store.get(m.id).state for m in messages} == {SENDING}  # type: ignore[union-attr]


def test_batch_scripts_leave_ids_that_already_left_the_batch(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(3)
    store.add_messages(messages, now=NOW)
    batch = store.take_batch(LANE, max_size=3, worker="w", now=NOW, take_timeout_s=30)
    assert batch is not None
    store.record_outcomes(batch.id, [(messages[0].id, Rejected("400", "bad"))], account="revicom", now=NOW)

    # messages[0] left the batch: a worker's late settle or retry must not touch it.
    store.settle(batch.id, [messages[0].id], state=FAILED, reason="late", now=NOW + 1)
    store.retry_later(batch.id, [(messages[0].id, NOW + 5)], reason="late", now=NOW + 1)
    assert store.get(messages[0].id).state == REJECTED  # type: ignore[union-attr]
    assert store.release_due_retries(now=NOW + 10) == 0


def test_retries_go_back_to_the_lane_tail_only_when_due(store: Store, make_messages: MessageFactory) -> None:
    messages = make_messages(4)
    store.add_messages(messages, now=NOW)
    batch = store.take_batch(LANE, max_size=3, worker="w", now=NOW, take_timeout_s=30)
    assert batch is not None
    store.cancel(messages[3].id, now=NOW)
    due = [(messages[0].id, NOW + 10), (messages[1].id, NOW + 20), (messages[2].id, NOW + 10)]

    store.retry_later(batch.id, due, reason="503 unavailable", now=NOW)
    store.cancel(messages[2].id, now=NOW + 1)

    assert store.get(messages[0].id).reason == "503 unavailable"  # type: ignore[union-attr]
    assert store.release_due_retries(now=NOW + 9.9) == 0
    assert store.release_due_retries(now=NOW + 10) == 1, "the cancelled one is dropped"
    assert take(store, 10, now=NOW + 10) == [messages[0].id]
    assert store.release_due_retries(now=NOW + 30) == 1
    assert take(store, 10, now=NOW + 30) == [messages[1].id]
    assert store.release_due_retries(now=NOW + 99) == 0


def test_settle_finishes_messages_in_our_states_only(store: Store, make_messages: MessageFactory) -> None:
    messages = make_messages(2)
    store.add_messages(messages, now=NOW)
    batch = store.take_batch(LANE, max_size=2, worker="w", now=NOW, take_timeout_s=30)
    assert batch is not None

    store.settle(batch.id, [messages[0].id], state=UNKNOWN, reason="at_most_once", now=NOW)
    store.settle(batch.id, [messages[1].id], state=FAILED, reason="deadline passed", now=NOW)

    assert [store.get(m.id).state for m in messages] == [UNKNOWN, FAILED]  # type: ignore[union-attr]
    assert store.get_batch(batch.id) is None
    with pytest.raises(ValueError, match="settle"):
        store.settle(batch.id, [messages[0].id], state=SUBMITTED, reason="no", now=NOW)


def test_due_batches_are_the_taken_and_posting_ones_past_their_deadline(
    store: Store, make_messages: MessageFactory
) -> None:
    store.add_messages(make_messages(3), now=NOW)
    taken = store.take_batch(LANE, max_size=1, worker="w", now=NOW, take_timeout_s=30)
    posting = store.take_batch(LANE, max_size=1, worker="w", now=NOW, take_timeout_s=30)
    fresh = store.take_batch(LANE, max_size=1, worker="w", now=NOW + 50, take_timeout_s=30)
    assert taken is not None
    assert posting is not None
    assert fresh is not None
    store.mark_posting(posting.id, tag="T", now=NOW, reclaim_at=NOW + 40)

    assert store.due_batches(now=NOW + 29) == []
    assert [b.id for b in store.due_batches(now=NOW + 30)] == [taken.id]
    due = store.due_batches(now=NOW + 45)
    assert [(b.id, b.state) for b in due] == [(taken.id, "taken"), (posting.id, "posting")]
    assert due[1].tag == "T"
    assert due[1].items[0].attempts == 1
    assert len(store.due_batches(now=NOW + 1000, limit=2)) == 2
