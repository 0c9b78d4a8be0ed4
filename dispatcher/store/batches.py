"""Batches: taking queued messages from a lane, marking a request, and recording how it ended.

Every change is one Lua script (``lua/``), so a batch and its messages never disagree and no id is
taken twice, whatever workers run at once.
"""

from __future__ import annotations

import secrets
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


def new_batch_id(now: float) -> str:
    """Time-ordered and unique without coordination, like message ids."""
    return f"{int(now * 1000):011x}{secrets.token_hex(6)}"


class BatchStore(StoreBase):
    """Batch operations of the store (docs/pipeline.md §4, Dispatch task)."""

    def take_batch(
        self, lane: str, *, max_size: int, worker: str, now: float, take_timeout_s: float
    ) -> Batch | None:
        """Pop up to ``max_size`` queued ids from the lane head as a new batch, now ``sending``."""
        batch_id = new_batch_id(now)
        reply = self._scripts.take_batch(
            keys=[self._keys.lane(lane), self._keys.inflight],
            args=[*self._prelude_args(now), max_size, batch_id, lane, worker, now, now + take_timeout_s],
        )
        if not reply:
            return None
        items = batch_items_from_reply(reply)
        return Batch(id=batch_id, lane=lane, state="taken", items=items, tag=None, posting_at=None)

    def mark_posting(
        self, batch_id: str, *, tag: str, now: float, reclaim_at: float, ids: Sequence[str] | None = None
    ) -> bool:
        """Mark the batch ``posting`` under request ``tag`` and count an attempt for ``ids`` (default:
        all its messages). False when the batch no longer exists (it was reclaimed)."""
        marked = self._scripts.mark_posting(
            keys=[self._keys.batch(batch_id), self._keys.inflight],
            args=[*self._prelude_args(now), batch_id, tag, now, reclaim_at, *(ids or ())],
        )
        return bool(marked)

    def record_outcomes(
        self, batch_id: str, outcomes: Sequence[tuple[str, Outcome]], *, account: str, now: float
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
            args=[*self._prelude_args(now), batch_id, orjson.dumps(flat)],
        )

    def requeue(
        self,
        batch_id: str,
        ids: Sequence[str],
        *,
        reason: str,
        now: float,
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
            args=[*self._prelude_args(now), batch_id, one_line(reason), only_if_state, only_if_tag, *ids],
        )
        return int(moved)

    def retry_later(
        self, batch_id: str, due: Sequence[tuple[str, float]], *, reason: str, now: float
    ) -> None:
        """``queued`` again, waiting in the retry zset until each id's due time."""
        args: list[str | int | float] = [*self._prelude_args(now), batch_id, one_line(reason)]
        for message_id, due_at in due:
            args += [message_id, due_at]
        self._scripts.retry_later(
            keys=[self._keys.batch(batch_id), self._keys.inflight, self._keys.retry], args=args
        )

    def settle(self, batch_id: str, ids: Sequence[str], *, state: str, reason: str, now: float) -> None:
        """Finish messages of a batch as ``failed``, ``unknown`` or ``expired``."""
        if state not in SETTLE_STATES:
            raise ValueError(f"settle: state={state!r}: must be one of {sorted(SETTLE_STATES)}")
        self._scripts.settle(
            keys=[self._keys.batch(batch_id), self._keys.inflight],
            args=[*self._prelude_args(now), batch_id, state, one_line(reason), *ids],
        )

    def release_due_retries(self, *, now: float, limit: int = 1000) -> int:
        """Move up to ``limit`` retry-due ids to their lanes' tails; returns how many went back."""
        released = self._scripts.release_due_retries(
            keys=[self._keys.retry], args=[*self._prelude_args(now), now, limit]
        )
        return int(released)

    def get_batch(self, batch_id: str) -> Batch | None:
        fields = cast(RawHash, self._client.hgetall(self._keys.batch(batch_id)))
        if not fields:
            return None
        return batch_from_hash(batch_id, fields, self._items(batch_member_ids(fields)))

    def due_batches(self, *, now: float, limit: int = 100) -> list[Batch]:
        """Batches whose inflight deadline passed (taken and never posted, or posting unanswered)."""
        due = self._client.zrangebyscore(self._keys.inflight, "-inf", now, start=0, num=limit)
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
