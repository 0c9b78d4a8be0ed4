"""The store: message records, lanes, batches and campaigns in Redis (docs/pipeline.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast

from dispatcher.settings import Settings
from dispatcher.store.base import epoch_s
from dispatcher.store.batches import BatchStore
from dispatcher.store.connection import store_client
from dispatcher.store.fallbacks import FallbackStore
from dispatcher.store.intake import INTAKE_CHUNK, IntakeStore
from dispatcher.store.lanes import LaneStore
from dispatcher.store.records import (
    MessageRecord,
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

_CAMPAIGN_IDS_PAGE = 1000


@dataclass(frozen=True, slots=True)
class HeldCampaign:
    """A campaign in intake: ``checking`` (not accepted yet), ``releasing`` (accepted, going to its
    lane) or ``discarding``; ``age_s`` since its intake began, ``committed_s`` since it was
    committed (None before), both by Redis' clock."""

    id: str
    phase: str
    lane: str
    age_s: float
    committed_s: float | None


class Store(
    StatsStore, LaneStore, BatchStore, ScheduleStore, ReportStore, FallbackStore, IntakeStore, WebhookStore
):
    """Every Redis operation of the dispatch pipeline; multi-key changes are atomic Lua scripts."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        client = store_client(settings)
        return cls(client, prefix=settings.key_prefix, retention_s=settings.retention_s)

    def get(self, message_id: str) -> MessageRecord | None:
        fields = cast(RawHash, self._client.hgetall(self._keys.message(message_id)))
        return message_from_hash(message_id, fields) if fields else None

    def find_by_provider_id(self, account: str, provider_message_id: str) -> str | None:
        found = self._client.hget(self._keys.provider_index(account), provider_message_id)
        return decoded(found) if found is not None else None

    def cancel(self, message_id: str, *, reason: str = "cancel") -> str:
        """``cancelled`` unless already sending or beyond; returns the state after ("" if unknown).

        The id stays in its lane or the retry zset: ``take_batch`` and the retry release skip it.
        """
        return self._move(message_id, CANCELLED, reason=reason, only_from=CANCELLABLE_STATES)[1]

    def cancel_many(self, message_ids: Sequence[str], *, reason: str = "cancel") -> list[str]:
        """``cancel`` for many ids in one round trip per ``INTAKE_CHUNK``; the states after, in order."""
        states: list[str] = []
        only_from = " ".join(CANCELLABLE_STATES)
        for start in range(0, len(message_ids), INTAKE_CHUNK):
            pipe = self._client.pipeline(transaction=False)
            for message_id in message_ids[start : start + INTAKE_CHUNK]:
                self._scripts.transition(
                    keys=[self._keys.message(message_id)],
                    args=[*self._prelude_args(), CANCELLED, one_line(reason), only_from],
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

    def confirm_stopped(self, message_id: str, *, reason: str) -> bool:
        """A submitted message the provider confirmed it will not send (Revicom stop) → ``cancelled``."""
        return self._move(message_id, CANCELLED, reason=reason, only_from=(SUBMITTED,))[0]

    def transition(self, message_id: str, target: str, *, reason: str) -> bool:
        """Move a message to ``target`` if the transition table allows it; a refused move is kept
        in the history. ``queued`` and ``sending`` are refused here: they belong to a lane or a
        batch, and only the batch operations keep those consistent."""
        if target in (QUEUED, SENDING) or target not in ALL_STATES:
            raise ValueError(f"transition: target={target!r}: use the lane and batch operations")
        return self._move(message_id, target, reason=reason)[0]

    def _move(
        self, message_id: str, target: str, *, reason: str, only_from: Sequence[str] = ()
    ) -> tuple[bool, str]:
        sources = [" ".join(only_from)] if only_from else []
        moved, state_after = self._scripts.transition(
            keys=[self._keys.message(message_id)],
            args=[*self._prelude_args(), target, one_line(reason), *sources],
        )
        return bool(moved), state_after.decode()

    # --- campaigns ---

    def create_campaign(self, campaign_id: str, *, account: str, lane: str, held: bool = False) -> None:
        """Record a campaign's account and lane; counters already there are kept.

        ``held``: the campaign starts *checking*: its messages are stored with
        ``add_messages(hold=True)`` while the producer checks the rest, and nothing of it is sent
        until ``commit_campaign``; one never committed is removed with ``discard_campaign``.
        """
        self._scripts.create_campaign(
            keys=[self._keys.campaign(campaign_id), self._keys.held],
            args=[account, lane, "1" if held else "0", campaign_id],
        )

    def commit_campaign(self, campaign_id: str) -> bool:
        """Accept a held campaign whose recipients all passed (*checking* → *releasing*): from now
        on it is released (by its producer, or by beat) and never discarded. True if committed (now
        or before); False if it cannot be: it is unknown, or beat has begun discarding it."""
        return bool(self._scripts.commit_campaign(keys=[self._keys.campaign(campaign_id)]))

    def release_campaign(self, campaign_id: str, lane: str, *, count: int) -> tuple[int, bool]:
        """Put the next ``count`` ids of a committed campaign on its lane, from where the last call
        (anyone's) stopped; returns (how many went, whether the campaign is fully released)."""
        released, done = self._scripts.release_campaign(
            keys=[
                self._keys.campaign_ids(campaign_id),
                self._keys.lane(lane),
                self._keys.lanes,
                self._keys.campaign(campaign_id),
                self._keys.held,
            ],
            args=[count, lane, campaign_id],
        )
        return int(released), bool(done)

    def discard_campaign(self, campaign_id: str, *, chunk: int = _CAMPAIGN_IDS_PAGE) -> int:
        """Delete a held campaign never committed, and its messages (never a committed one);
        returns how many."""
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

    def held_campaigns(self) -> list[HeldCampaign]:
        """Campaigns whose intake has not finished: still checking (their producer may have died)
        or committed and still releasing, each with its age by Redis' clock."""
        pipe = self._client.pipeline(transaction=False)
        pipe.time()
        pipe.zrange(self._keys.held, 0, -1, withscores=True)
        clock, members = pipe.execute()
        now = epoch_s(clock)
        if not members:
            return []
        pipe = self._client.pipeline(transaction=False)
        for raw_id, _ in members:
            pipe.hmget(self._keys.campaign(decoded(raw_id)), "ph", "ln", "cm")
        return [
            HeldCampaign(
                decoded(raw_id),
                decoded(phase),
                decoded(lane),
                now - began,
                now - float(committed) if committed is not None else None,
            )
            for (raw_id, began), (phase, lane, committed) in zip(members, pipe.execute(), strict=True)
            if phase is not None and lane is not None
        ]

    def campaign_counts(self, campaign_id: str) -> dict[str, int]:
        """Messages per state (every state, zeros included), plus ``total``."""
        fields = cast(RawHash, self._client.hgetall(self._keys.campaign(campaign_id)))
        counts = dict.fromkeys(ALL_STATES, 0)
        counts["total"] = int(fields.get(b"total", 0))
        for name, value in fields.items():
            if name.startswith(b"n:"):
                counts[name[2:].decode()] = int(value)
        return counts

    def campaign_accepted(self, campaign_id: str) -> bool | None:
        """True once committed (or never held), False while checking or discarding, None if unknown."""
        pipe = self._client.pipeline(transaction=False)
        pipe.exists(self._keys.campaign(campaign_id))
        pipe.hget(self._keys.campaign(campaign_id), "ph")
        exists, phase = pipe.execute()
        if not exists:
            return None
        return phase not in (b"checking", b"discarding")

    def campaign_message_ids(self, campaign_id: str) -> Iterator[str]:
        """The campaign's message ids in intake order, read page by page."""
        key = self._keys.campaign_ids(campaign_id)
        start = 0
        while page := self._client.lrange(key, start, start + _CAMPAIGN_IDS_PAGE - 1):
            yield from (decoded(raw) for raw in page)
            start += len(page)
