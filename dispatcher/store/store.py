"""The store: message records, lanes, batches and campaigns in Redis (docs/pipeline.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

import redis

from dispatcher.settings import Settings
from dispatcher.store.batches import BatchStore
from dispatcher.store.fallbacks import FallbackStore
from dispatcher.store.intake import intake_args, stored_ids
from dispatcher.store.lanes import LaneStore
from dispatcher.store.records import (
    MessageRecord,
    NewMessage,
    RawHash,
    decoded,
    message_from_hash,
    one_line,
)
from dispatcher.store.reports import ReportStore
from dispatcher.store.schedule import ScheduleStore
from dispatcher.store.states import ALL_STATES, CANCELLABLE_STATES, CANCELLED, QUEUED, SENDING, SUBMITTED
from dispatcher.store.stats import StatsStore
from dispatcher.store.webhooks import WebhookStore

#: Messages per ``add_messages.lua`` call: large enough to amortise the round trip, small enough
#: that one call never blocks Redis for more than a few milliseconds.
INTAKE_CHUNK = 1000
_CAMPAIGN_IDS_PAGE = 1000


class Store(StatsStore, LaneStore, BatchStore, ScheduleStore, ReportStore, FallbackStore, WebhookStore):
    """Every Redis operation of the dispatch pipeline; multi-key changes are atomic Lua scripts."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        client = redis.Redis.from_url(str(settings.redis_url))
        return cls(client, prefix=settings.key_prefix, retention_s=settings.retention_s)

    def add_messages(self, messages: Sequence[NewMessage], *, now: float, hold: bool = False) -> list[str]:
        """Store messages as ``queued`` at their lanes' tails; returns their ids in order.

        For a known idempotency key the EXISTING id is returned and nothing is stored; an id
        already present is never overwritten. ``hold``: campaign messages stay out of their lane
        until ``release_campaign`` (see ``create_campaign``).
        """
        stored: list[str] = []
        for start in range(0, len(messages), INTAKE_CHUNK):
            chunk = messages[start : start + INTAKE_CHUNK]
            known = self._scripts.add_messages(
                keys=[self._keys.lanes], args=intake_args(self._prelude_args(now), chunk, now, hold)
            )
            stored += stored_ids(chunk, known)
        return stored

    def get(self, message_id: str) -> MessageRecord | None:
        fields = cast(RawHash, self._client.hgetall(self._keys.message(message_id)))
        return message_from_hash(message_id, fields) if fields else None

    def find_by_provider_id(self, account: str, provider_message_id: str) -> str | None:
        found = self._client.hget(self._keys.provider_index(account), provider_message_id)
        return decoded(found) if found is not None else None

    def cancel(self, message_id: str, *, now: float, reason: str = "cancel") -> str:
        """``cancelled`` unless already sending or beyond; returns the state after ("" if unknown).

        The id stays in its lane or the retry zset: ``take_batch`` and the retry release skip it.
        """
        return self._move(message_id, CANCELLED, reason=reason, now=now, only_from=CANCELLABLE_STATES)[1]

    def cancel_many(self, message_ids: Sequence[str], *, now: float, reason: str = "cancel") -> list[str]:
        """``cancel`` for many ids in one round trip per ``INTAKE_CHUNK``; the states after, in order."""
        states: list[str] = []
        only_from = " ".join(CANCELLABLE_STATES)
        for start in range(0, len(message_ids), INTAKE_CHUNK):
            pipe = self._client.pipeline(transaction=False)
            for message_id in message_ids[start : start + INTAKE_CHUNK]:
                self._scripts.transition(
                    keys=[self._keys.message(message_id)],
                    args=[*self._prelude_args(now), CANCELLED, one_line(reason), only_from],
                    client=pipe,
                )
            states += [decoded(state_after) for _, state_after in pipe.execute()]
        return states

    def submissions(self, message_ids: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """(provider id, lane, wire item) of each message the provider holds, None for the others;
        one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for message_id in message_ids:
            pipe.hmget(self._keys.message(message_id), "pid", "ln", "w")
        return [
            (decoded(pid), decoded(lane), wire) if pid is not None and lane is not None else None
            for pid, lane, wire in pipe.execute()
        ]

    def confirm_stopped(self, message_id: str, *, now: float, reason: str) -> bool:
        """A submitted message the provider confirmed it will not send (Revicom stop) → ``cancelled``."""
        return self._move(message_id, CANCELLED, reason=reason, now=now, only_from=(SUBMITTED,))[0]

    def transition(self, message_id: str, target: str, *, reason: str, now: float) -> bool:
        """Move a message to ``target`` if the transition table allows it; a refused move is kept
        in the history. ``queued`` and ``sending`` are refused here: they belong to a lane or a
        batch, and only the batch operations keep those consistent."""
        if target in (QUEUED, SENDING) or target not in ALL_STATES:
            raise ValueError(f"transition: target={target!r}: use the lane and batch operations")
        return self._move(message_id, target, reason=reason, now=now)[0]

    def _move(
        self, message_id: str, target: str, *, reason: str, now: float, only_from: Sequence[str] = ()
    ) -> tuple[bool, str]:
        sources = [" ".join(only_from)] if only_from else []
        moved, state_after = self._scripts.transition(
            keys=[self._keys.message(message_id)],
            args=[*self._prelude_args(now), target, one_line(reason), *sources],
        )
        return bool(moved), state_after.decode()

    # --- campaigns ---

    def create_campaign(
        self, campaign_id: str, *, account: str, lane: str, now: float, held: bool = False
    ) -> None:
        """Record a campaign's account and lane; counters already there are kept.

        ``held``: its messages are stored with ``add_messages(hold=True)`` while the producer still
        checks the rest, and reach the lane only with ``release_campaign``; a held campaign that is
        never released is removed with ``discard_campaign``.
        """
        key = self._keys.campaign(campaign_id)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(key, mapping={"ac": account, "ln": lane, "ct": f"{now:.3f}"})
        pipe.hsetnx(key, "total", 0)
        if held:
            pipe.hset(key, "held", "1")
            pipe.zadd(self._keys.held, {campaign_id: now})
        pipe.execute()

    def release_campaign(self, campaign_id: str, lane: str, *, start: int, count: int) -> int:
        """Put ``count`` held ids from position ``start`` on the lane; returns how many went."""
        released = self._scripts.release_campaign(
            keys=[
                self._keys.campaign_ids(campaign_id),
                self._keys.lane(lane),
                self._keys.lanes,
                self._keys.campaign(campaign_id),
                self._keys.held,
            ],
            args=[start, count, lane, campaign_id],
        )
        return int(released)

    def discard_campaign(self, campaign_id: str, *, chunk: int = _CAMPAIGN_IDS_PAGE) -> int:
        """Delete a held campaign and its messages (never a released one); returns how many."""
        deleted = 0
        while True:
            removed = int(
                self._scripts.discard_campaign(
                    keys=[
                        self._keys.campaign_ids(campaign_id),
                        self._keys.campaign(campaign_id),
                        self._keys.held,
                    ],
                    args=[self._keys.root, chunk, campaign_id],
                )
            )
            deleted += removed
            if removed < chunk:
                return deleted

    def held_campaigns(self, *, began_before: float) -> list[str]:
        """Held campaigns whose intake began before this time (their producer may have died)."""
        members = cast(list[bytes], self._client.zrangebyscore(self._keys.held, "-inf", began_before))
        return [decoded(raw) for raw in members]

    def campaign_counts(self, campaign_id: str) -> dict[str, int]:
        """Messages per state (every state, zeros included), plus ``total``."""
        fields = cast(RawHash, self._client.hgetall(self._keys.campaign(campaign_id)))
        counts = dict.fromkeys(ALL_STATES, 0)
        counts["total"] = int(fields.get(b"total", 0))
        for name, value in fields.items():
            if name.startswith(b"n:"):
                counts[name[2:].decode()] = int(value)
        return counts

    def campaign_message_ids(self, campaign_id: str) -> Iterator[str]:
        """The campaign's message ids in intake order, read page by page."""
        key = self._keys.campaign_ids(campaign_id)
        start = 0
        while page := self._client.lrange(key, start, start + _CAMPAIGN_IDS_PAGE - 1):
            yield from (decoded(raw) for raw in page)
            start += len(page)
