"""The Lua scripts apply the same transition table as ``states.allowed`` (real Redis)."""

from __future__ import annotations

import itertools

import pytest
import redis

from dispatcher.providers.outcomes import Submitted
from dispatcher.store import Store
from dispatcher.store.states import ALL_STATES, DELIVERED, FINAL_STATES, QUEUED, READ, SENT, allowed

from .conftest import MessageFactory

pytestmark = pytest.mark.integration


def test_every_move_in_lua_matches_the_python_table(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    pairs = list(itertools.product(ALL_STATES, ALL_STATES))
    messages = make_messages(len(pairs), campaign="grid")
    store.add_messages(messages)
    for message, (source, _target) in zip(messages, pairs, strict=True):
        redis_client.hset(f"{{{key_prefix}}}:m:{message.id}", "st", source)

    scripts = store._scripts  # the generic script, so queued/sending targets are checked too
    for message, (source, target) in zip(messages, pairs, strict=True):
        moved, state_after = scripts.transition(
            keys=[f"{{{key_prefix}}}:m:{message.id}"], args=[*store._prelude_args(), target, "probe"]
        )
        assert bool(moved) == allowed(source, target), (source, target)
        assert state_after.decode() == (target if allowed(source, target) else source)
        last = store.get(message.id).history[-1]  # type: ignore[union-attr]
        expected_reason = "probe" if allowed(source, target) else "ignored:probe"
        assert (last.source, last.target, last.reason) == (source, target, expected_reason)


def test_a_late_sent_after_delivered_is_an_event_not_a_regression(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    (message,) = make_messages(1, idempotency_keys=["k"])
    store.add_messages([message])
    batch = store.take_batch("revicom:bulk", max_size=1, worker="w", take_timeout_s=30)
    assert batch is not None
    store.record_outcomes(batch.id, [(message.id, Submitted("P"))], account="revicom")

    assert store.transition(message.id, DELIVERED, reason="dlr")
    assert not store.transition(message.id, SENT, reason="late dlr")
    assert store.transition(message.id, READ, reason="read")

    record = store.get(message.id)
    assert record is not None
    assert record.state == READ
    assert [(t.target, t.reason) for t in record.history[-3:]] == [
        (DELIVERED, "dlr"), (SENT, "ignored:late dlr"), (READ, "read"),
    ]  # fmt: skip
    # History times are Redis' clock, in order.
    times = [t.at for t in record.history]
    assert times == sorted(times)
    assert times[-1] == pytest.approx(store.now(), abs=5)
    assert redis_client.ttl(f"{{{key_prefix}}}:m:{message.id}") > 0


def test_transition_on_an_unknown_id_creates_nothing(
    store: Store, redis_client: redis.Redis, key_prefix: str
) -> None:
    assert not store.transition("ghost", DELIVERED, reason="dlr")
    assert redis_client.exists(f"{{{key_prefix}}}:m:ghost") == 0


@pytest.mark.parametrize("target", [QUEUED, "sending", "bogus"])
def test_generic_transition_refuses_lane_states_and_unknown_names(store: Store, target: str) -> None:
    with pytest.raises(ValueError, match="transition"):
        store.transition("any", target, reason="r")


def test_final_states_are_exactly_those_that_expire(
    store: Store, make_messages: MessageFactory, redis_client: redis.Redis, key_prefix: str
) -> None:
    messages = make_messages(len(ALL_STATES))
    store.add_messages(messages)
    for message, state in zip(messages, ALL_STATES, strict=True):
        redis_client.hset(f"{{{key_prefix}}}:m:{message.id}", "st", "unknown")
        store._scripts.transition(
            keys=[f"{{{key_prefix}}}:m:{message.id}"], args=[*store._prelude_args(), state, "x"]
        )
    expiring = {
        store.get(m.id).state  # type: ignore[union-attr]
        for m in messages
        if redis_client.ttl(f"{{{key_prefix}}}:m:{m.id}") > 0
    }
    reachable_from_unknown = {s for s in ALL_STATES if allowed("unknown", s)}
    assert expiring == reachable_from_unknown & FINAL_STATES
