"""Batches: atomic takes, posting marks, recorded outcomes, give-backs and retries (real Redis)."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from dispatcher.providers.outcomes import Rejected, Submitted
from dispatcher.store import Store
from dispatcher.store.states import CANCELLED, EXPIRED, FAILED, QUEUED, REJECTED, SENDING, SUBMITTED, UNKNOWN

from .conftest import MessageFactory

pytestmark = pytest.mark.integration

LANE = "revicom:bulk"
#: Slack for comparing a time Redis set with one read from Redis a moment later.
CLOCK_SLACK_S = 1.0


def take(store: Store, max_size: int, *, timeout_s: float = 30.0) -> list[str]:
    batch = store.take_batch(LANE, max_size=max_size, worker="w1", take_timeout_s=timeout_s)
    assert batch is not None
    return [item.id for item in batch.items]


def lane_ids(redis_client: redis.Redis, key_prefix: str) -> list[str]:
    return [raw.decode() for raw in redis_client.lrange(f"{{{key_prefix}}}:lane:{LANE}", 0, -1)]  # type: ignore[union-attr]


def test_take_returns_wire_items_and_marks_them_sending(store: Store, make_messages: MessageFactory) -> None:
    messages = make_messages(5)
    store.add_messages(messages)

    batch = store.take_batch(LANE, max_size=3, worker="w1", take_timeout_s=30)

    assert batch is not None
    assert (batch.lane, batch.state, batch.tag) == (LANE, "taken", None)
    assert [(i.id, i.wire, i.attempts) for i in batch.items] == [(m.id, m.wire, 0) for m in messages[:3]]
    # The deadline: its time to live from intake, by Redis' clock.
    assert [i.deadline for i in batch.items] == pytest.approx([store.now() + 86_400] * 3, abs=5)
    assert all(store.get(m.id).state == SENDING for m in messages[:3])  # type: ignore[union-attr]
    assert store.get_batch(batch.id) == batch
    assert store.lane_depth(LANE) == 2


def test_take_from_an_empty_lane_gives_nothing(store: Store) -> None:
    assert store.take_batch(LANE, max_size=10, worker="w", take_timeout_s=30) is None


def test_cancelled_ids_are_skipped_and_the_batch_is_filled_from_behind(
    store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(6)
    store.add_messages(messages)
    assert store.cancel(messages[0].id) == CANCELLED
    assert store.cancel(messages[2].id) == CANCELLED

    assert take(store, 3) == [messages[1].id, messages[3].id, messages[4].id]
    assert store.get(messages[0].id).state == CANCELLED  # type: ignore[union-attr]
    assert store.lane_depth(LANE) == 1


def test_cancel_is_refused_once_sending_and_unknown_ids_answer_empty(
    store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(1)
    store.add_messages(messages)
    take(store, 1)

    assert store.cancel(messages[0].id) == SENDING
    assert store.cancel("no-such-id") == ""
    assert store.get("no-such-id") is None
    assert store.get(messages[0].id).history[-1].reason == "ignored:cancel"  # type: ignore[union-attr]


def test_cancel_never_cancels_what_the_provider_holds_unless_a_stop_is_confirmed(
    store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(1)
    store.add_messages(messages)
    batch = store.take_batch(LANE, max_size=1, worker="w1", take_timeout_s=30)
    assert batch is not None
    store.record_outcomes(batch.id, [(messages[0].id, Submitted("p-1"))], account="revicom")

    assert store.cancel(messages[0].id) == SUBMITTED
    assert store.confirm_stopped(messages[0].id, reason="stopped at the provider")
    assert store.get(messages[0].id).state == CANCELLED  # type: ignore[union-attr]


def test_concurrent_takers_get_every_id_exactly_once(
    redis_url: str, key_prefix: str, store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(3000)
    store.add_messages(messages)
    taken: list[list[str]] = [[] for _ in range(6)]
    start = threading.Barrier(len(taken))

    def worker(index: int) -> None:
        own = Store(redis.Redis.from_url(redis_url), prefix=key_prefix)
        start.wait()
        while batch := own.take_batch(LANE, max_size=37, worker=f"w{index}", take_timeout_s=30):
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


def test_posting_counts_an_attempt_and_sets_the_reclaim_time_by_redis_clock(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    store.add_messages(make_messages(3))
    batch = store.take_batch(LANE, max_size=3, worker="w", take_timeout_s=30)
    assert batch is not None

    assert store.mark_posting(batch.id, tag="tag-1", reclaim_after_s=80)
    before = store.now()
    assert store.mark_posting(batch.id, tag="tag-2", reclaim_after_s=82, ids=[batch.items[0].id])

    posted = store.get_batch(batch.id)
    assert posted is not None
    assert (posted.state, posted.tag) == ("posting", "tag-2")
    assert posted.posting_at == pytest.approx(before, abs=CLOCK_SLACK_S)
    assert [item.attempts for item in posted.items] == [2, 1, 1]
    reclaim_at = redis_client.zscore(f"{{{key_prefix}}}:inflight", batch.id)
    assert reclaim_at == pytest.approx(before + 82, abs=CLOCK_SLACK_S)
    assert not store.mark_posting("gone", tag="t", reclaim_after_s=1)


def test_marking_again_under_the_same_tag_counts_no_second_attempt(
    store: Store, make_messages: MessageFactory
) -> None:
    # What a retry after a lost reply does: the request is the same, so is its attempt.
    store.add_messages(make_messages(2))
    batch = store.take_batch(LANE, max_size=2, worker="w", take_timeout_s=30)
    assert batch is not None

    assert store.mark_posting(batch.id, tag="t1", reclaim_after_s=80)
    assert store.mark_posting(batch.id, tag="t1", reclaim_after_s=80)

    assert [item.attempts for item in store.get_batch(batch.id).items] == [1, 1]  # type: ignore[union-attr]


def test_taking_again_with_the_same_batch_id_returns_that_batch_and_takes_nothing_more(
    store: Store, make_messages: MessageFactory, key_prefix: str
) -> None:
    # A retry of take_batch after its reply was lost: the first call's batch, not a second one.
    messages = make_messages(5)
    store.add_messages(messages)
    keys = [f"{{{key_prefix}}}:lane:{LANE}", f"{{{key_prefix}}}:inflight"]
    args = [f"{{{key_prefix}}}:", 604800, 2, "b-fixed", LANE, "w", 30, 20]

    first = store._scripts.take_batch(keys=keys, args=args)
    again = store._scripts.take_batch(keys=keys, args=args)

    assert first[0] == again[0] == f"{messages[0].id} {messages[1].id}".encode()
    assert store.lane_depth(LANE) == 3


def test_outcomes_index_provider_ids_set_retention_and_empty_the_batch(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(3, idempotency_keys=["k0", "k1", "k2"])
    store.add_messages(messages)
    batch = store.take_batch(LANE, max_size=3, worker="w", take_timeout_s=30)
    assert batch is not None
    store.mark_posting(batch.id, tag="t", reclaim_after_s=80)

    store.record_outcomes(
        batch.id, [(messages[0].id, Submitted("P-0")), (messages[1].id, Rejected("4000", "Invalid\nmsisdn"))],
        account="revicom",
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

    store.record_outcomes(batch.id, [(messages[2].id, Submitted("P-2"))], account="revicom")

    assert store.get_batch(batch.id) is None
    assert redis_client.zscore(f"{root}inflight", batch.id) is None


def test_requeue_puts_ids_back_at_the_lane_head_in_order(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(5)
    store.add_messages(messages)
    first = store.take_batch(LANE, max_size=3, worker="w", take_timeout_s=30)
    assert first is not None

    store.requeue(first.id, [item.id for item in first.items], reason="account paused")

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
    store.add_messages(messages)
    batch = store.take_batch(LANE, max_size=2, worker="w", take_timeout_s=30)
    assert batch is not None
    store.record_outcomes(batch.id, [(messages[0].id, Submitted("P"))], account="revicom")

    store.requeue(batch.id, [messages[0].id, messages[1].id], reason="late give-back")

    assert lane_ids(redis_client, key_prefix) == [messages[1].id]
    assert store.get(messages[0].id).state == SUBMITTED  # type: ignore[union-attr]


def test_beat_cannot_reclaim_a_batch_a_worker_has_marked_posting(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    # The race: beat reads a due batch while it is still `taken`, the worker marks it posting and
    # sends; beat's give-back must then do nothing, or the messages would be taken and sent again.
    messages = make_messages(3)
    store.add_messages(messages)
    batch = store.take_batch(LANE, max_size=3, worker="w", take_timeout_s=30)
    assert batch is not None
    assert store.mark_posting(batch.id, tag="t1", reclaim_after_s=100)

    ids = [item.id for item in batch.items]
    assert store.requeue(batch.id, ids, reason="beat", only_if_state="taken") == 0
    assert store.requeue(batch.id, ids, reason="reconcile", only_if_tag="other") == 0

    assert lane_ids(redis_client, key_prefix) == []
    assert {store.get(m.id).state for m in messages} == {SENDING}  # type: ignore[union-attr]


def test_batch_scripts_leave_ids_that_already_left_the_batch(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(3)
    store.add_messages(messages)
    batch = store.take_batch(LANE, max_size=3, worker="w", take_timeout_s=30)
    assert batch is not None
    store.record_outcomes(batch.id, [(messages[0].id, Rejected("400", "bad"))], account="revicom")

    # messages[0] left the batch: a worker's late settle or retry must not touch it.
    store.settle(batch.id, [messages[0].id], state=FAILED, reason="late")
    store.retry_later(batch.id, [(messages[0].id, 0.0)], reason="late")
    assert store.get(messages[0].id).state == REJECTED  # type: ignore[union-attr]
    assert store.release_due_retries() == 0


def test_retries_go_back_to_the_lane_tail_only_when_due_by_redis_clock(
    store: Store, make_messages: MessageFactory
) -> None:
    messages = make_messages(4)
    store.add_messages(messages)
    batch = store.take_batch(LANE, max_size=3, worker="w", take_timeout_s=30)
    assert batch is not None
    store.cancel(messages[3].id)
    waits = [(messages[0].id, 0.3), (messages[1].id, 30.0), (messages[2].id, 0.3)]

    store.retry_later(batch.id, waits, reason="503 unavailable")
    store.cancel(messages[2].id)

    assert store.get(messages[0].id).reason == "503 unavailable"  # type: ignore[union-attr]
    assert store.release_due_retries() == 0, "not due yet"
    time.sleep(0.4)
    assert store.release_due_retries() == 1, "the cancelled one is dropped"
    assert take(store, 10) == [messages[0].id]
    assert store.release_due_retries() == 0, "the other waits 30 s"


def test_take_finishes_messages_whose_deadline_passed_by_redis_clock(
    store: Store, make_messages: MessageFactory
) -> None:
    # Never sent: expired; sent before and waiting for a retry: failed. Neither joins the batch.
    late = make_messages(2, ttl_s=0.5)
    on_time = make_messages(1)
    store.add_messages([*late, *on_time])
    first = store.take_batch(LANE, max_size=1, worker="w", take_timeout_s=30)
    assert first is not None
    assert store.mark_posting(first.id, tag="t", reclaim_after_s=80)
    store.retry_later(first.id, [(late[0].id, 0.0)], reason="503 unavailable")
    assert store.release_due_retries() == 1
    time.sleep(0.6)

    batch = store.take_batch(LANE, max_size=10, worker="w", take_timeout_s=30)

    assert batch is not None
    assert [item.id for item in batch.items] == [on_time[0].id]
    assert (batch.expired, batch.failed) == (1, 1)
    assert store.get(late[1].id).state == EXPIRED  # type: ignore[union-attr]
    failed = store.get(late[0].id)
    assert failed is not None
    assert (failed.state, failed.reason) == (FAILED, "deadline passed before a retry succeeded")


def test_take_looks_at_a_bounded_number_of_ids_per_call(store: Store, make_messages: MessageFactory) -> None:
    messages = make_messages(40)
    store.add_messages(messages)
    for message in messages[:-1]:
        store.cancel(message.id)

    first = store.take_batch(LANE, max_size=2, worker="w", take_timeout_s=30)
    second = store.take_batch(LANE, max_size=2, worker="w", take_timeout_s=30)

    assert first is not None
    assert first.items == (), "20 cancelled ids looked at, none taken"
    assert second is not None
    assert [item.id for item in second.items] == [messages[-1].id]


def test_settle_finishes_messages_in_our_states_only(store: Store, make_messages: MessageFactory) -> None:
    messages = make_messages(2)
    store.add_messages(messages)
    batch = store.take_batch(LANE, max_size=2, worker="w", take_timeout_s=30)
    assert batch is not None

    store.settle(batch.id, [messages[0].id], state=UNKNOWN, reason="at_most_once")
    store.settle(batch.id, [messages[1].id], state=FAILED, reason="deadline passed")

    assert [store.get(m.id).state for m in messages] == [UNKNOWN, FAILED]  # type: ignore[union-attr]
    assert store.get_batch(batch.id) is None
    with pytest.raises(ValueError, match="settle"):
        store.settle(batch.id, [messages[0].id], state=SUBMITTED, reason="no")


def test_due_batches_are_the_taken_and_posting_ones_past_their_deadline_by_redis_clock(
    store: Store, make_messages: MessageFactory
) -> None:
    store.add_messages(make_messages(3))
    taken = store.take_batch(LANE, max_size=1, worker="w", take_timeout_s=0.3)
    posting = store.take_batch(LANE, max_size=1, worker="w", take_timeout_s=0.3)
    fresh = store.take_batch(LANE, max_size=1, worker="w", take_timeout_s=30)
    assert taken is not None
    assert posting is not None
    assert fresh is not None
    store.mark_posting(posting.id, tag="T", reclaim_after_s=0.8)

    assert store.due_batches() == []
    time.sleep(0.4)
    assert [b.id for b in store.due_batches()] == [taken.id]
    time.sleep(0.5)
    due = store.due_batches()
    assert [(b.id, b.state) for b in due] == [(taken.id, "taken"), (posting.id, "posting")]
    assert due[1].tag == "T"
    assert due[1].items[0].attempts == 1
    assert len(store.due_batches(limit=1)) == 1
