"""The transition table and the pure decoding of store records (no Redis)."""

from __future__ import annotations

import re

import pytest

from dispatcher.store import states
from dispatcher.store.records import batch_items_from_reply, one_line, parse_history
from dispatcher.store.states import (
    ALL_STATES,
    CANCELLABLE_STATES,
    CANCELLED,
    DELIVERED,
    FINAL_STATES,
    QUEUED,
    READ,
    SENDING,
    SENT,
    SUBMITTED,
    UNKNOWN,
    allowed,
)

#: Lifecycle rank from ``submitted`` on: a move to a lower rank would be a regression.
_PROVIDER_RANK = {SUBMITTED: 0, SENT: 1, DELIVERED: 2, READ: 3}


def test_queued_and_sending_may_alternate_before_submission() -> None:
    assert allowed(QUEUED, SENDING)
    assert allowed(SENDING, QUEUED)


@pytest.mark.parametrize("source", [SUBMITTED, SENT, DELIVERED, READ])
@pytest.mark.parametrize("target", [SUBMITTED, SENT, DELIVERED, READ])
def test_nothing_moves_backwards_from_submitted_on(source: str, target: str) -> None:
    assert allowed(source, target) == (_PROVIDER_RANK[target] > _PROVIDER_RANK[source])


@pytest.mark.parametrize("target", [QUEUED, SENDING, SUBMITTED])
@pytest.mark.parametrize("source", [SUBMITTED, SENT, *sorted(FINAL_STATES)])
def test_nothing_goes_back_to_the_queue_after_submission(source: str, target: str) -> None:
    assert not allowed(source, target)


def test_only_delivered_and_unknown_leave_a_final_state() -> None:
    leaving = {source for source in FINAL_STATES if any(allowed(source, t) for t in ALL_STATES)}
    assert leaving == {DELIVERED, UNKNOWN}
    assert {t for t in ALL_STATES if allowed(DELIVERED, t)} == {READ}


def test_unknown_is_settled_by_a_provider_report_only() -> None:
    settled_by = {target for target in ALL_STATES if allowed(UNKNOWN, target)}
    assert settled_by == {"sent", "delivered", "read", "undelivered", "expired", "failed"}


def test_cancel_only_before_sending_or_after_a_confirmed_provider_stop() -> None:
    sources = {source for source in ALL_STATES if allowed(source, CANCELLED)}
    assert sources == {"accepted", "scheduled", QUEUED, "submitted"}
    # A producer's cancel is narrower: what the provider holds needs its stop endpoint first.
    assert set(CANCELLABLE_STATES) == {"accepted", "scheduled", QUEUED}


def test_a_state_never_moves_to_itself() -> None:
    assert not any(allowed(state, state) for state in ALL_STATES)


def test_lua_tables_render_exactly_the_python_table() -> None:
    rendered = states.lua_tables()
    table = re.search(r"local ALLOWED = \{(.*)\}\nlocal FINAL", rendered, re.S)
    assert table is not None
    lua_moves = {
        (source, target)
        for source, targets in re.findall(r"(\w+) = \{([^}]*)\}", table.group(1))
        for target in re.findall(r"(\w+) = true", targets)
    }
    python_moves = {(s, t) for s in ALL_STATES for t in ALL_STATES if allowed(s, t)}
    assert lua_moves == python_moves
    final = re.search(r"local FINAL = \{([^}]*)\}", rendered)
    assert final is not None
    assert set(re.findall(r"(\w+) = true", final.group(1))) == FINAL_STATES


def test_history_lines_decode_with_spaces_in_the_reason() -> None:
    raw = b"1700000000123 accepted queued intake\n1700000000456 delivered sent ignored:dlr 2 of 3\n"
    first, second = parse_history(raw)
    assert (first.at, first.source, first.target, first.reason) == (
        1700000000.123,
        "accepted",
        "queued",
        "intake",
    )
    assert second.reason == "ignored:dlr 2 of 3"


def test_reasons_are_kept_on_one_line() -> None:
    assert one_line("4000 Invalid\nmsisdn\r\n  x") == "4000 Invalid msisdn x"


def test_packed_take_reply_splits_wire_items_by_length() -> None:
    wires = [b'{"a":"x y"}', b"", '{"t":"Привет"}'.encode()]
    reply = [
        b"m1 m2 m3",
        b"0 2 1",
        b"10.5 11 12.25",
        " ".join(str(len(w)) for w in wires).encode(),
        b"".join(wires),
    ]
    items = batch_items_from_reply(reply)
    assert [item.id for item in items] == ["m1", "m2", "m3"]
    assert [item.wire for item in items] == wires
    assert [item.attempts for item in items] == [0, 2, 1]
    assert [item.deadline for item in items] == [10.5, 11.0, 12.25]
