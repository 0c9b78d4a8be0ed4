"""The store's state in numbers, for monitoring: message counts by provider, channel and state (kept
by the scripts in ``{P}:stats``, see lua/prelude.lua), lanes, and what waits for beat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from dispatcher.store.lanes import LaneStore
from dispatcher.store.records import LaneInfo, RawHash


@dataclass(frozen=True, slots=True)
class MessageCount:
    provider: str
    channel: str  # '?' for messages stored without one (older records, tests)
    state: str
    count: int


@dataclass(frozen=True, slots=True)
class StoreStatistics:
    #: Messages in each non-final state now.
    current: list[MessageCount]
    #: Messages that ever entered each state (monotonic while Redis keeps its data).
    entered: list[MessageCount]
    lanes: list[LaneInfo]
    retry_waiting: int
    scheduled_waiting: int
    batches_in_flight: int
    early_callbacks: int
    fallbacks_due: int
    webhooks_due: int
    #: Redis' memory in use, and its ``maxmemory`` (0: no limit). At the limit every write is
    #: refused: intake answers "store full" and the pipeline stands still until memory frees.
    memory_used_bytes: int = 0
    memory_max_bytes: int = 0


class StatsStore(LaneStore):
    def statistics(self) -> StoreStatistics:
        """A snapshot in a few round trips (not atomic: each number is exact for its own moment)."""
        keys = self._keys
        pipe = self._client.pipeline(transaction=False)
        pipe.hgetall(keys.stats)
        waiting = (keys.retry, keys.scheduled, keys.inflight, keys.early, keys.fallback_due, keys.webhook_due)
        for zset in waiting:
            pipe.zcard(zset)
        pipe.info("memory")
        stats, retry, scheduled, inflight, early, fallbacks, webhooks, memory = pipe.execute()
        current, entered = _message_counts(cast(RawHash, stats))
        return StoreStatistics(
            current=current,
            entered=entered,
            lanes=self.lanes(),
            retry_waiting=int(retry),
            scheduled_waiting=int(scheduled),
            batches_in_flight=int(inflight),
            early_callbacks=int(early),
            fallbacks_due=int(fallbacks),
            webhooks_due=int(webhooks),
            memory_used_bytes=int(memory.get("used_memory", 0)),
            memory_max_bytes=int(memory.get("maxmemory", 0)),
        )


def _message_counts(stats: RawHash) -> tuple[list[MessageCount], list[MessageCount]]:
    current: list[MessageCount] = []
    entered: list[MessageCount] = []
    for raw_field, raw_count in sorted(stats.items()):
        kind, provider, channel, state = raw_field.decode().split("|")
        count = MessageCount(provider, channel, state, int(raw_count))
        (current if kind == "n" else entered).append(count)
    return current, entered
