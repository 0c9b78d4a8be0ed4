"""Intake: the arguments and the reply of ``add_messages.lua``, which stores new messages with their
extras (send time, fallback, webhook) in one script."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from dispatcher.errors import IdempotencyConflict, Problem, StoreUnavailable
from dispatcher.store.base import StoreBase
from dispatcher.store.records import NewMessage, decoded

#: Messages per ``add_messages.lua`` call: large enough to amortise the round trip, small enough
#: that one call never blocks Redis for more than a few milliseconds.
INTAKE_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Extras:
    """What a message carries beyond ``NewMessage``."""

    #: Not before this (epoch s): its send time, or when its sending window opens. The script
    #: compares it with Redis' clock: one already passed puts the message in its lane at once, one
    #: after the message's deadline waits only until the deadline (then it expires).
    release_at: float | None = None
    #: Extra hash fields (``wh`` webhook URL, ``fb``/``fbi`` fallback).
    fields: Mapping[str, str] = field(default_factory=dict)
    #: Beat claims the SMS fallback this long after the message's send time (or its intake, when it
    #: goes at once) if no delivered/read came.
    fallback_within_s: float | None = None
    #: Whether beat turns its status changes into webhook events.
    watch: bool = False
    #: This message is the SMS fallback of that RCS message (its claim is closed on intake).
    fallback_of: str | None = None


def intake_args(
    prelude: Sequence[str | int],
    chunk: Sequence[NewMessage],
    *,
    held_by: str | None,
    extras: Mapping[str, Extras] | None = None,
) -> list[str | int | bytes]:
    """ARGV of ``add_messages.lua`` for one chunk of at most ``INTAKE_CHUNK`` messages (``held_by``:
    the owner token of the held campaign they belong to)."""
    flat: list[str] = []
    for message in chunk:
        flat += [
            message.id,
            message.lane,
            message.provider,
            message.wire.decode(),
            f"{message.ttl_s:.3f}",
            message.campaign or "",
            message.idempotency_key or "",
            message.channel,
            message.request_digest,
        ]
    entries = {
        message.id: _entry(extra)
        for message in chunk
        if extras is not None and (extra := extras.get(message.id)) is not None
    }
    return [*prelude, orjson.dumps(flat), held_by or "", orjson.dumps(entries) if entries else ""]


#: First element of ``add_messages.lua``'s reply: stored (replays named), refused, claim lost.
_STORED, _CONFLICT, _CLAIM_LOST = 0, 1, 2


class StoredIds(list[str]):
    """The ids an intake returned, in order, and which of them are replays: an idempotency key
    already known, for the same request, gave back the id it stands for (nothing was stored)."""

    def __init__(self, ids: Sequence[str] = (), replayed: Sequence[bool] = ()) -> None:
        super().__init__(ids)
        self.replayed = list(replayed) or [False] * len(ids)

    def extend_with(self, more: StoredIds) -> None:
        self.extend(more)
        self.replayed += more.replayed


def stored_ids(chunk: Sequence[NewMessage], reply: Sequence[bytes], *, accepted: Sequence[str]) -> StoredIds:
    """The ids of a chunk after ``add_messages.lua`` (the existing id where an idempotency key was
    known); raises IdempotencyConflict when a key stands for a different request. ``accepted``: ids
    of the call's earlier chunks, which the error names."""
    status = int(reply[0])
    if status == _CLAIM_LOST:
        campaign = chunk[0].campaign
        raise StoreUnavailable(
            f"campaign {campaign}: this intake lost its claim (it stalled past its lease and another "
            "call with the same campaign id took the campaign over); nothing of this chunk was stored",
            accepted=accepted,
            campaign=campaign,
        )
    if status == _CONFLICT:
        position, existing = int(reply[1]), decoded(reply[2])
        message = chunk[position]
        rule = (
            f"already stands for another request (message {existing}): an idempotency key may be sent "
            "again only with the same request"
        )
        raise IdempotencyConflict(
            [Problem("idempotency_key", message.idempotency_key, rule)], existing=existing, accepted=accepted
        )
    ids = [message.id for message in chunk]
    replayed = [False] * len(chunk)
    known = reply[1:]
    for raw_position, existing_id in zip(known[::2], known[1::2], strict=True):
        ids[int(raw_position)] = decoded(existing_id)
        replayed[int(raw_position)] = True
    return StoredIds(ids, replayed)


def _entry(extra: Extras) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if extra.release_at is not None:
        entry["at"] = round(extra.release_at, 3)
    if extra.fields:
        entry["f"] = [item for pair in extra.fields.items() for item in pair]
    if extra.fallback_within_s is not None:
        entry["fd"] = round(extra.fallback_within_s, 3)
    if extra.watch:
        entry["watch"] = True
    if extra.fallback_of is not None:
        entry["fo"] = extra.fallback_of
    return entry


class IntakeStore(StoreBase):
    def add_messages(
        self,
        messages: Sequence[NewMessage],
        *,
        held_by: str | None = None,
        extras: Mapping[str, Extras] | None = None,
    ) -> StoredIds:
        """Store messages as ``queued`` at their lanes' tails, each with its ``extras`` (send time,
        fallback, webhook) in the same script; returns their ids in order.

        For a known idempotency key the EXISTING id is returned and nothing is stored (a key that
        stands for another request, by ``request_digest``, raises IdempotencyConflict and nothing
        of its chunk is stored); an id
        already present is never overwritten, so storing the same messages again (a retry after a
        lost reply) stores nothing twice. ``held_by``: the owner token of a held campaign
        (``claim_campaign``): its messages stay out of their lane until ``release_campaign``, and
        nothing is stored once that claim is lost (StoreUnavailable). A message whose ``release_at`` is still
        ahead by Redis' clock waits in the schedule instead of its lane.
        """
        stored = StoredIds()
        for start in range(0, len(messages), INTAKE_CHUNK):
            chunk = messages[start : start + INTAKE_CHUNK]
            reply = self._scripts.add_messages(
                keys=[
                    self._keys.lanes,
                    self._keys.scheduled,
                    self._keys.fallback_due,
                    self._keys.webhook_watch,
                ],
                args=intake_args(self._prelude_args(), chunk, held_by=held_by, extras=extras),
            )
            stored.extend_with(stored_ids(chunk, reply, accepted=stored))
        return stored
