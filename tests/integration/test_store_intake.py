"""add_messages stores exactly what it is given, once, in lane order (real Redis, own prefix)."""

from __future__ import annotations

import dataclasses

import pytest
import redis

from dispatcher.errors import ConfigurationError, IdempotencyConflict
from dispatcher.store import INTAKE_CHUNK, NewMessage, Store
from dispatcher.store.states import QUEUED

from .conftest import MessageFactory, claim_held

pytestmark = pytest.mark.integration


def test_messages_are_stored_exactly_as_given(store: Store, make_messages: MessageFactory) -> None:
    messages = make_messages(3, campaign="cmp1")
    before = store.now()
    assert store.add_messages(messages) == [m.id for m in messages]

    for message in messages:
        record = store.get(message.id)
        assert record is not None
        assert (record.state, record.lane, record.provider, record.wire) == (
            QUEUED,
            message.lane,
            message.provider,
            message.wire,
        )
        assert (record.campaign, record.attempts) == ("cmp1", 0)
        assert record.deadline == pytest.approx(record.created_at + 86_400, abs=0.01), "ttl from intake"
        assert before - 0.001 <= record.created_at <= store.now() + 0.001, "by Redis' clock (ms)"
        assert [(t.source, t.target) for t in record.history] == [("accepted", QUEUED)]
    assert store.lane_depth("revicom:bulk") == 3
    assert [lane.name for lane in store.lanes()] == ["revicom:bulk"]


def test_lanes_keep_intake_order_across_chunks(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(INTAKE_CHUNK + 5, campaign="big")
    store.add_messages(messages)

    in_lane = [raw.decode() for raw in redis_client.lrange(f"{{{key_prefix}}}:lane:revicom:bulk", 0, -1)]
    assert in_lane == [m.id for m in messages]
    assert list(store.campaign_message_ids("big")) == [m.id for m in messages]
    counts = store.campaign_counts("big")
    assert counts["total"] == counts[QUEUED] == INTAKE_CHUNK + 5


def test_a_known_idempotency_key_returns_the_existing_id_and_stores_nothing(
    store: Store, make_messages: MessageFactory
) -> None:
    first = make_messages(2, idempotency_keys=["order-1", None], campaign="c")
    assert store.add_messages(first) == [first[0].id, first[1].id]

    again = make_messages(3, idempotency_keys=["x-2", "order-1", "x-2"], campaign="c")
    ids = store.add_messages(again)

    assert ids == [again[0].id, first[0].id, again[0].id]
    assert store.get(again[1].id) is None
    assert store.get(again[2].id) is None
    assert store.lane_depth("revicom:bulk") == 3
    assert store.campaign_counts("c")["total"] == 3


def test_a_key_known_for_another_request_digest_stores_nothing_of_the_chunk(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    (first,) = make_messages(1, idempotency_keys=["order-1"])
    first = replace_digest(first, "d1")
    store.add_messages([first])
    same, other = make_messages(2, idempotency_keys=["order-1", "order-2"])
    keys_before = sorted(redis_client.scan_iter(match=f"{{{key_prefix}}}:*"))

    with pytest.raises(IdempotencyConflict) as refused:
        store.add_messages([replace_digest(other, "d2"), replace_digest(same, "d9")])

    assert refused.value.existing == first.id
    assert sorted(redis_client.scan_iter(match=f"{{{key_prefix}}}:*")) == keys_before
    replay = store.add_messages([replace_digest(same, "d1")])
    assert (replay, replay.replayed) == ([first.id], [True])


def test_a_key_twice_in_one_chunk_stands_for_its_first_message(
    store: Store, make_messages: MessageFactory
) -> None:
    one, two, three = make_messages(3, idempotency_keys=["k", "k", "k"])
    with pytest.raises(IdempotencyConflict):
        store.add_messages([replace_digest(one, "d1"), replace_digest(two, "d2")])
    assert store.get(one.id) is None

    ids = store.add_messages([replace_digest(one, "d1"), replace_digest(three, "d1")])

    assert (ids, ids.replayed) == ([one.id, one.id], [False, True])
    assert store.get(three.id) is None


def replace_digest(message: NewMessage, digest: str) -> NewMessage:
    return dataclasses.replace(message, request_digest=digest)


def test_an_id_already_present_is_never_overwritten(store: Store, make_messages: MessageFactory) -> None:
    (original,) = make_messages(1)
    store.add_messages([original])
    impostor = type(original)(
        id=original.id, lane="bsg:bulk", provider="bsg", wire=b"{}", ttl_s=1.0, campaign="other"
    )

    assert store.add_messages([impostor]) == [original.id]

    record = store.get(original.id)
    assert record is not None
    assert (record.wire, record.lane) == (original.wire, original.lane)
    assert store.lane_depth("revicom:bulk") == 1
    assert store.lane_depth("bsg:bulk") == 0
    assert store.campaign_counts("other")["total"] == 0


def test_messages_spread_over_lanes_in_one_chunk(store: Store, make_messages: MessageFactory) -> None:
    mixed = make_messages(2, lane="revicom:bulk") + make_messages(3, lane="smartswitch:transactional")
    store.add_messages(mixed)

    assert store.lane_depth("revicom:bulk") == 2
    assert store.lane_depth("smartswitch:transactional") == 3
    assert {lane.name for lane in store.lanes()} == {"revicom:bulk", "smartswitch:transactional"}


def test_store_refuses_a_decoding_client(redis_url: str, key_prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="decode_responses"):
        Store(redis.Redis.from_url(redis_url, decode_responses=True), prefix=key_prefix)


def test_a_held_campaign_reaches_its_lane_only_when_committed_and_released(
    store: Store, make_messages: MessageFactory
) -> None:
    owner_cmp2 = claim_held(store, "cmp2", lane="revicom:bulk")
    messages = make_messages(2500, campaign="cmp2")
    store.add_messages(messages, held_by=owner_cmp2)

    assert store.lane_depth("revicom:bulk") == 0
    assert store.campaign_counts("cmp2")["queued"] == 2500
    assert [(c.id, c.phase) for c in store.held_campaigns()] == [("cmp2", "checking")]
    assert store.campaign_accepted("cmp2") is False
    assert store.release_campaign("cmp2", "revicom:bulk", count=2000) == (0, False), "not committed"

    assert store.commit_campaign("cmp2", owner=owner_cmp2, content_digest="c")
    assert store.campaign_accepted("cmp2") is True
    assert store.release_campaign("cmp2", "revicom:bulk", count=2000) == (2000, False)
    # Whoever continues (the producer, or beat) starts where the last call stopped.
    assert store.release_campaign("cmp2", "revicom:bulk", count=2000) == (500, True)
    assert store.release_campaign("cmp2", "revicom:bulk", count=2000) == (0, True)
    assert store.lane_depth("revicom:bulk") == 2500
    assert store.held_campaigns() == []
    # A committed campaign holds accepted messages: it can no longer be discarded.
    assert store.discard_campaign("cmp2") == 0
    assert store.get(messages[0].id) is not None
    assert store.campaign_accepted("no-such-campaign") is None


def test_a_committed_campaign_is_never_discarded_and_a_discarded_one_never_committed(
    store: Store, make_messages: MessageFactory
) -> None:
    owner_kept = claim_held(store, "kept", lane="revicom:bulk")
    store.add_messages(make_messages(1500, campaign="kept"), held_by=owner_kept)
    assert store.commit_campaign("kept", owner=owner_kept, content_digest="c")
    assert store.release_campaign("kept", "revicom:bulk", count=1000) == (1000, False)

    assert store.discard_campaign("kept") == 0, "half released: accepted all the same"
    assert store.campaign_counts("kept")["total"] == 1500

    owner_late = claim_held(store, "late", lane="revicom:bulk")
    store.add_messages(make_messages(1500, campaign="late"), held_by=owner_late)
    assert store.discard_campaign("late", chunk=1000) == 1500
    assert not store.commit_campaign("late", owner=owner_late, content_digest="c"), (
        "gone: a producer waking up late cannot commit it"
    )


def test_a_discarded_held_campaign_leaves_nothing_but_totals(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    owner_cmp3 = claim_held(store, "cmp3", lane="revicom:bulk")
    store.add_messages(make_messages(2500, campaign="cmp3"), held_by=owner_cmp3)
    assert [count.count for count in store.statistics().current] == [2500]

    assert store.discard_campaign("cmp3", chunk=1000) == 2500

    # Only the statistics remain: nothing is queued any more, and the totals (Prometheus counters,
    # which must never go down) count the messages as discarded.
    assert list(redis_client.scan_iter(match=f"{{{key_prefix}}}:*")) == [f"{{{key_prefix}}}:stats".encode()]
    statistics = store.statistics()
    assert [count.count for count in statistics.current] == [0]
    assert {count.state: count.count for count in statistics.entered} == {"queued": 2500, "discarded": 2500}
