"""Batches: taking queued messages from a lane, marking a request, and recording how it ended.

Every change is one Lua script (``lua/``), so a batch and its messages never disagree and no id is
taken twice, whatever workers run at once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import cast

import orjson

from dispatcher.providers.outcomes import Outcome, Submitted
from dispatcher.store.base import StoreBase
from dispatcher.store.records import (
    Batch,
    BatchItem,
    RawHash,
    batch_from_hash,
    batch_items_from_reply,
    batch_member_ids,
    decoded,
    one_line,
)
from dispatcher.store.states import EXPIRED, FAILED, UNKNOWN

#: States ``settle`` may finish a batch's messages in (ours, not a provider's).
SETTLE_STATES = frozenset({FAILED, UNKNOWN, EXPIRED})


#: Ids ``take_batch.lua`` looks at per call, per message it may take: a lane full of cancelled or
#: expired ids is worked through in bounded steps.
SCAN_PER_TAKEN = 10


def new_batch_id() -> str:
    """Unique without coordination (its time part only orders ids for people reading them)."""
    return f"{int(time.time() * 1000):011x}{secrets.token_hex(6)}"


class BatchStore(StoreBase):
    """Batch operations of the store (docs/pipeline.md §4, Dispatch task).

    Every time they set or compare (reclaim deadlines, retry due times, message deadlines) is Redis'
    clock, read by the scripts; callers give durations.
    """

    def take_batch(self, lane: str, *, max_size: int, worker: str, take_timeout_s: float) -> Batch | None:
        """Pop up to ``max_size`` queued ids from the lane head as a new batch, now ``sending``;
        None when the lane had nothing to look at. Messages past their deadline are finished on
        the way (``Batch.expired``/``failed``), so a batch may come back with no items."""
        batch_id = new_batch_id()
        reply = self._scripts.take_batch(
            keys=[self._keys.lane(lane), self._keys.inflight],
            args=[
                *self._prelude_args(),
                max_size,
                batch_id,
                lane,
                worker,
                take_timeout_s,
                max_size * SCAN_PER_TAKEN,
            ],
        )
        if not reply:
            return None
        items = batch_items_from_reply(reply) if reply[0] else ()
        return Batch(
            id=batch_id,
            lane=lane,
            state="taken",
            items=items,
            tag=None,
            posting_at=None,
            expired=int(reply[5]),
            failed=int(reply[6]),
        )

    def mark_posting(
        self, batch_id: str, *, tag: str, reclaim_after_s: float, ids: Sequence[str] | None = None
    ) -> bool:
        """Mark the batch ``posting`` under request ``tag`` and count an attempt for ``ids`` (default:
        all its messages); beat may reconcile it ``reclaim_after_s`` from now. False when the batch
        no longer exists (it was reclaimed)."""
        marked = self._scripts.mark_posting(
            keys=[self._keys.batch(batch_id), self._keys.inflight],
            args=[*self._prelude_args(), batch_id, tag, reclaim_after_s, *(ids or ())],
        )
        return bool(marked)

    def record_outcomes(
        self, batch_id: str, outcomes: Sequence[tuple[str, Outcome]], *, account: str
    ) -> None:
        """``submitted`` (indexed by provider id) or ``rejected`` per message; they leave the batch."""
        flat: list[str] = []
        for message_id, outcome in outcomes:
            if isinstance(outcome, Submitted):
                flat += [message_id, "S", outcome.provider_message_id]
            else:
                flat += [message_id, "R", one_line(f"{outcome.code} {outcome.reason}")]
        self._scripts.record_outcomes(
            keys=[self._keys.batch(batch_id), self._keys.inflight, self._keys.provider_index(account)],
            args=[*self._prelude_args(), batch_id, orjson.dumps(flat)],
        )

    def requeue(
        self,
        batch_id: str,
        ids: Sequence[str],
        *,
        reason: str,
        only_if_state: str = "",
        only_if_tag: str = "",
    ) -> int:
        """Back to the lane HEAD, in this order, ``queued``; no attempt counted. Returns how many.

        Only ids still in the batch move. ``only_if_state`` / ``only_if_tag``: do nothing unless the
        batch is still in that state / its latest request has that tag (beat reclaims a batch only
        while ``taken``; a reconciliation acts only on the request it looked up).
        """
        moved = self._scripts.requeue(
            keys=[self._keys.batch(batch_id), self._keys.inflight],
            args=[*self._prelude_args(), batch_id, one_line(reason), only_if_state, only_if_tag, *ids],
        )
        return int(moved)

    def retry_later(self, batch_id: str, delays: Sequence[tuple[str, float]], *, reason: str) -> None:
        """``queued`` again, waiting in the retry zset; each id is due that many seconds from now."""
        args: list[str | int | float] = [*self._prelude_args(), batch_id, one_line(reason)]
        for message_id, delay_s in delays:
            args += [message_id, round(delay_s, 3)]
        self._scripts.retry_later(
            keys=[self._keys.batch(batch_id), self._keys.inflight, self._keys.retry], args=args
        )

    def settle(self, batch_id: str, ids: Sequence[str], *, state: str, reason: str) -> None:
        """Finish messages of a batch as ``failed``, ``unknown`` or ``expired``."""
        if state not in SETTLE_STATES:
            raise ValueError(f"settle: state={state!r}: must be one of {sorted(SETTLE_STATES)}")
        self._scripts.settle(
            keys=[self._keys.batch(batch_id), self._keys.inflight],
            args=[*self._prelude_args(), batch_id, state, one_line(reason), *ids],
        )

    def release_due_retries(self, *, limit: int = 1000) -> int:
        """Move up to ``limit`` retry-due ids to their lanes' tails; returns how many went back."""
        released = self._scripts.release_due_retries(
            keys=[self._keys.retry], args=[*self._prelude_args(), limit]
        )
        return int(released)

    def get_batch(self, batch_id: str) -> Batch | None:
        fields = cast(RawHash, self._client.hgetall(self._keys.batch(batch_id)))
        if not fields:
            return None
        return batch_from_hash(batch_id, fields, self._items(batch_member_ids(fields)))

    def due_batches(self, *, limit: int = 100) -> list[Batch]:
        """Batches whose inflight deadline passed by Redis' clock (taken and never posted, or
        posting unanswered)."""
        due = self._client.zrangebyscore(self._keys.inflight, "-inf", self.now(), start=0, num=limit)
        due_ids = [decoded(raw) for raw in cast(list[bytes], due)]
        batches = (self.get_batch(batch_id) for batch_id in due_ids)
        return [batch for batch in batches if batch is not None]

    def _items(self, message_ids: Sequence[str]) -> tuple[BatchItem, ...]:
        pipe = self._client.pipeline(transaction=False)
        for message_id in message_ids:
            pipe.hmget(self._keys.message(message_id), "w", "at", "dl")
        return tuple(
            BatchItem(message_id, wire, int(attempts or b"0"), float(deadline))
            for message_id, (wire, attempts, deadline) in zip(message_ids, pipe.execute(), strict=True)
            if wire is not None
        )
