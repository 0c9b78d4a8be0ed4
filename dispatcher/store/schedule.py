"""The schedule: messages with a send time wait in ``{P}:sched`` as ``scheduled`` (out of every
lane) until beat releases them by Redis' clock (docs/pipeline.md §7). They are stored with their
send time in one script (``add_messages.lua``, see ``dispatcher.store.intake``)."""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.store.base import StoreBase
from dispatcher.store.records import decoded

#: Ids per ``release_scheduled.lua`` call: a few milliseconds of Redis time.
RELEASE_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Released:
    released: int
    expired: int
    lanes: tuple[str, ...]


class ScheduleStore(StoreBase):
    def release_scheduled(self, *, limit: int) -> Released:
        """Scheduled messages due now (at most ``limit``, in chunks) to their lanes; those past
        their deadline become ``expired``."""
        released = expired = 0
        lanes: set[str] = set()
        while limit > 0:
            chunk = min(limit, RELEASE_CHUNK)
            reply = self._scripts.release_scheduled(
                keys=[self._keys.scheduled, self._keys.lanes], args=[*self._prelude_args(), chunk]
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
