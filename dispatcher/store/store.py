"""The store: message records, lanes, batches and campaigns in Redis (docs/pipeline.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from dispatcher.settings import Settings
from dispatcher.store.batches import BatchStore
from dispatcher.store.campaigns import CampaignStore
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


class Store(
    StatsStore,
    LaneStore,
    BatchStore,
    ScheduleStore,
    ReportStore,
    FallbackStore,
    IntakeStore,
    CampaignStore,
    WebhookStore,
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
