"""Lanes: their depth and pauses, and the leases that cap the dispatch tasks working each one.

Lease expiries are Redis' clock: a lease taken by a worker whose clock is off lasts exactly as long
as asked, for every other process too.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from dispatcher.store.base import StoreBase, epoch_s
from dispatcher.store.records import LaneInfo, decoded


class LaneStore(StoreBase):
    """Lane operations of the store (docs/pipeline.md §4, Kick)."""

    def lane_depth(self, lane: str) -> int:
        return int(self._client.llen(self._keys.lane(lane)))

    def lane_names(self) -> list[str]:
        return sorted(decoded(name) for name in self._client.smembers(self._keys.lanes))

    def lanes(self) -> list[LaneInfo]:
        """Every lane ever used, with its depth, pause and live runners (a snapshot, not atomic)."""
        names = self.lane_names()
        pipe = self._client.pipeline(transaction=False)
        pipe.time()
        for name in names:
            pipe.llen(self._keys.lane(name))
            pipe.get(self._keys.pause(name))
            pipe.pttl(self._keys.pause(name))
            pipe.zrange(self._keys.runners(name), 0, -1, withscores=True)
        clock, *replies = pipe.execute()
        now = epoch_s(clock)
        infos = []
        for index, name in enumerate(names):
            depth, paused, pttl_ms, leases = replies[4 * index : 4 * index + 4]
            infos.append(
                LaneInfo(
                    name=name,
                    depth=int(depth),
                    paused=decoded(paused) if paused is not None else None,
                    paused_for_s=pttl_ms / 1000 if paused is not None and pttl_ms >= 0 else None,
                    runners=_live(leases, now),
                )
            )
        return infos

    def pause_lane(self, lane: str, reason: str, *, for_s: float | None = None) -> None:
        """Pause a lane until ``resume_lane`` (account errors) or for ``for_s`` (429 Retry-After)."""
        px = max(1, int(for_s * 1000)) if for_s is not None else None
        # Listed from now on (a lane paused before its first message is still a lane to show).
        transaction = self._client.pipeline(transaction=True)
        transaction.sadd(self._keys.lanes, lane)
        transaction.set(self._keys.pause(lane), reason, px=px)
        transaction.execute()

    def resume_lane(self, lane: str) -> bool:
        """Lift a pause; False when the lane was not paused."""
        return bool(self._client.delete(self._keys.pause(lane)))

    def lane_paused(self, lane: str) -> str | None:
        reason = self._client.get(self._keys.pause(lane))
        return decoded(reason) if reason is not None else None

    def claim_runner(self, lane: str, *, max_runners: int, lease_s: float) -> str | None:
        """A lease token when fewer than ``max_runners`` live leases hold the lane, else None."""
        token = secrets.token_hex(8)
        claimed = self._scripts.claim_runner(
            keys=[self._keys.runners(lane)], args=[max_runners, lease_s, token]
        )
        return token if claimed else None

    def renew_runner(self, lane: str, token: str, *, lease_s: float) -> bool:
        """Extend a live lease by ``lease_s`` from now; False when it was dropped or had expired
        (the slot may be someone else's: its holder must stop working the lane)."""
        return bool(self._scripts.renew_runner(keys=[self._keys.runners(lane)], args=[token, lease_s]))

    def release_runner(self, lane: str, token: str) -> None:
        self._client.zrem(self._keys.runners(lane), token)

    def lanes_needing_runner(self) -> list[str]:
        """Unpaused lanes with waiting ids and no live lease (a hint: ``claim_runner`` decides)."""
        names = self.lane_names()
        pipe = self._client.pipeline(transaction=False)
        pipe.time()
        for name in names:
            pipe.llen(self._keys.lane(name))
            pipe.exists(self._keys.pause(name))
            pipe.zrange(self._keys.runners(name), 0, -1, withscores=True)
        clock, *replies = pipe.execute()
        now = epoch_s(clock)
        return [
            name
            for index, name in enumerate(names)
            if replies[3 * index] > 0
            and not replies[3 * index + 1]
            and _live(replies[3 * index + 2], now) == 0
        ]


def _live(leases: Sequence[tuple[bytes, float]], now: float) -> int:
    """Leases (token, expiry) still running at ``now``."""
    return sum(expiry > now for _, expiry in leases)
