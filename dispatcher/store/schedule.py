"""Intake with extras and the schedule: messages with a send time wait in ``{P}:sched`` as
``scheduled`` (out of every lane) until beat releases them (docs/pipeline.md §7).

A message with extras (a send time, a fallback, a webhook) is stored by ``add_messages.lua`` and
annotated by ``annotate.lua`` in ONE ``MULTI``: it never exists without them, and one with a send
time is stored held, so it is in no lane before its time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from dispatcher.store.base import StoreBase
from dispatcher.store.intake import intake_args, stored_ids
from dispatcher.store.records import NewMessage, decoded

#: Ids per ``release_scheduled.lua`` call: a few milliseconds of Redis time.
RELEASE_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Extras:
    """What a message carries beyond ``NewMessage``."""

    #: Not before this (epoch s): its send time, or when its sending window opens.
    release_at: float | None = None
    #: Extra hash fields (``wh`` webhook URL, ``fb``/``fbi`` fallback, ``fo`` fallback of).
    fields: Mapping[str, str] = field(default_factory=dict)
    #: When beat claims the SMS fallback if no delivered/read came (epoch s).
    fallback_deadline: float | None = None
    #: Whether beat turns its status changes into webhook events.
    watch: bool = False


@dataclass(frozen=True, slots=True)
class Released:
    released: int
    expired: int
    lanes: tuple[str, ...]


class ScheduleStore(StoreBase):
    def add_with_extras(
        self, messages: Sequence[NewMessage], extras: Mapping[str, Extras], *, now: float, hold: bool = False
    ) -> list[str]:
        """``add_messages`` (one chunk of at most ``INTAKE_CHUNK``), plus each message's extras,
        atomically. Messages with a ``release_at`` are stored held and scheduled."""
        later = [message for message in messages if _release_at(extras, message.id) is not None]
        at_once = [message for message in messages if _release_at(extras, message.id) is None]
        pipe = self._client.pipeline(transaction=True)
        for group, held in ((at_once, hold), (later, True)):
            if group:
                self._scripts.add_messages(
                    keys=[self._keys.lanes],
                    args=intake_args(self._prelude_args(now), group, now, held),
                    client=pipe,
                )
        entries = [_entry(message_id, extra) for message_id, extra in extras.items()]
        self._scripts.annotate(
            keys=[self._keys.scheduled, self._keys.fallback_due, self._keys.webhook_watch],
            args=[*self._prelude_args(now), f"{now:.3f}", orjson.dumps(entries)],
            client=pipe,
        )
        replies = pipe.execute()
        ids: dict[str, str] = {}
        for group, known in zip([g for g in (at_once, later) if g], replies, strict=False):
            ids.update(zip((m.id for m in group), stored_ids(group, known), strict=True))
        return [ids[message.id] for message in messages]

    def release_scheduled(self, *, now: float, limit: int) -> Released:
        """Scheduled messages due by ``now`` to their lanes (at most ``limit``, in chunks);
        those past their deadline become ``expired``."""
        released = expired = 0
        lanes: set[str] = set()
        while limit > 0:
            chunk = min(limit, RELEASE_CHUNK)
            reply = self._scripts.release_scheduled(
                keys=[self._keys.scheduled, self._keys.lanes],
                args=[*self._prelude_args(now), f"{now:.3f}", chunk],
            )
            released += int(reply[0])
            expired += int(reply[1])
            lanes.update(decoded(lane) for lane in reply[2:])
            if int(reply[0]) + int(reply[1]) < chunk:
                break
            limit -= chunk
        return Released(released, expired, tuple(sorted(lanes)))

    def next_release_at(self) -> float | None:
        """When the earliest scheduled message is due (epoch s); None when none waits."""
        first = self._client.zrange(self._keys.scheduled, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def scheduled_count(self) -> int:
        return int(self._client.zcard(self._keys.scheduled))


def _release_at(extras: Mapping[str, Extras], message_id: str) -> float | None:
    extra = extras.get(message_id)
    return extra.release_at if extra is not None else None


def _entry(message_id: str, extra: Extras) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message_id}
    if extra.release_at is not None:
        entry["at"] = round(extra.release_at, 3)
    if extra.fields:
        entry["f"] = [item for pair in extra.fields.items() for item in pair]
    if extra.fallback_deadline is not None:
        entry["fd"] = round(extra.fallback_deadline, 3)
    if extra.watch:
        entry["watch"] = True
    return entry
