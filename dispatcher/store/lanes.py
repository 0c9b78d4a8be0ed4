"""Lanes: their depth and pauses, and the leases that cap the dispatch tasks working each one."""

from __future__ import annotations

import secrets
import time

from dispatcher.store.base import StoreBase
from dispatcher.store.records import LaneInfo, decoded


class LaneStore(StoreBase):
    """Lane operations of the store (docs/pipeline.md §4, Kick)."""

    def lane_depth(self, lane: str) -> int:
        return int(self._client.llen(self._keys.lane(lane)))

    def lane_names(self) -> list[str]:
        return sorted(decoded(name) for name in self._client.smembers(self._keys.lanes))

    def lanes(self, *, now: float | None = None) -> list[LaneInfo]:
        """Every lane ever used, with its depth, pause and live runners (a snapshot, not atomic)."""
        names = self.lane_names()
        live_after = time.time() if now is None else now
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.llen(self._keys.lane(name))
            pipe.get(self._keys.pause(name))
            pipe.pttl(self._keys.pause(name))
            pipe.zcount(self._keys.runners(name), f"({live_after}", "+inf")
        replies = pipe.execute()
        infos = []
        for index, name in enumerate(names):
            depth, paused, pttl_ms, runners = replies[4 * index : 4 * index + 4]
            infos.append(
                LaneInfo(
                    name=name,
                    depth=int(depth),
                    paused=decoded(paused) if paused is not None else None,
                    paused_for_s=pttl_ms / 1000 if paused is not None and pttl_ms >= 0 else None,
                    runners=int(runners),
                )
            )
        return infos

    def pause_lane(self, lane: str, reason: str, *, for_s: float | None = None) -> None:
        """Pause a lane until ``resume_lane`` (account errors) or for ``for_s`` (429 Retry-After)."""
        px = max(1, int(for_s * 1000)) if for_s is not None else None
        self._client.set(self._keys.pause(lane), reason, px=px)

    def resume_lane(self, lane: str) -> bool:
        """Lift a pause; False when the lane was not paused."""
        return bool(self._client.delete(self._keys.pause(lane)))

    def lane_paused(self, lane: str) -> str | None:
        reason = self._client.get(self._keys.pause(lane))
        return decoded(reason) if reason is not None else None

    def claim_runner(self, lane: str, *, max_runners: int, lease_s: float, now: float) -> str | None:
        """A lease token when fewer than ``max_runners`` live leases hold the lane, else None."""
        token = secrets.token_hex(8)
        claimed = self._scripts.claim_runner(
            keys=[self._keys.runners(lane)], args=[now, max_runners, now + lease_s, token]
        )
        return token if claimed else None

    def renew_runner(self, lane: str, token: str, *, lease_s: float, now: float) -> bool:
        """Extend a live lease; False when it was already dropped (the slot may be someone else's)."""
        key = self._keys.runners(lane)
        pipe = self._client.pipeline(transaction=True)
        pipe.zadd(key, {token: now + lease_s}, xx=True)
        pipe.zscore(key, token)
        return pipe.execute()[1] is not None

    def release_runner(self, lane: str, token: str) -> None:
        self._client.zrem(self._keys.runners(lane), token)

    def lanes_needing_runner(self, *, now: float) -> list[str]:
        """Unpaused lanes with waiting ids and no live lease (a hint: ``claim_runner`` decides)."""
        names = self.lane_names()
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.llen(self._keys.lane(name))
            pipe.exists(self._keys.pause(name))
            pipe.zcount(self._keys.runners(name), f"({now}", "+inf")
        replies = pipe.execute()
        return [
            name
            for index, name in enumerate(names)
            if replies[3 * index] > 0 and not replies[3 * index + 1] and replies[3 * index + 2] == 0
        ]
