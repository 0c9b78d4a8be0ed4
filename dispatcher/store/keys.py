"""Redis key names of the store (docs/pipeline.md §2).

Every key starts with ``{P}:``: the braces are a Redis Cluster hash tag, so all keys of one
deployment live in one slot and a Lua script may touch any of them. The scripts build per-message
keys themselves from ``root`` (they learn ids from lists), with the same suffixes as here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one deployment prefix."""

    prefix: str

    @property
    def root(self) -> str:
        return f"{{{self.prefix}}}:"

    def message(self, message_id: str) -> str:
        return f"{self.root}m:{message_id}"

    def lane(self, lane: str) -> str:
        return f"{self.root}lane:{lane}"

    @property
    def lanes(self) -> str:
        return f"{self.root}lanes"

    def pause(self, lane: str) -> str:
        return f"{self.root}lane:{lane}:pause"

    def runners(self, lane: str) -> str:
        return f"{self.root}lane:{lane}:runners"

    def batch(self, batch_id: str) -> str:
        return f"{self.root}b:{batch_id}"

    @property
    def stats(self) -> str:
        """Message counts by provider, channel and state (written by the scripts, lua/prelude.lua)."""
        return f"{self.root}stats"

    @property
    def inflight(self) -> str:
        return f"{self.root}inflight"

    @property
    def retry(self) -> str:
        return f"{self.root}retry"

    def provider_index(self, account: str) -> str:
        return f"{self.root}pidx:{account}"

    def idempotency(self, key: str) -> str:
        return f"{self.root}idem:{key}"

    def campaign(self, campaign_id: str) -> str:
        return f"{self.root}c:{campaign_id}"

    def campaign_ids(self, campaign_id: str) -> str:
        return f"{self.root}c:{campaign_id}:ids"

    @property
    def held(self) -> str:
        """Campaigns stored but not yet released to their lanes → when their intake began."""
        return f"{self.root}held"

    @property
    def scheduled(self) -> str:
        """Scheduled message id → when it may go to its lane (send time or window opening)."""
        return f"{self.root}sched"

    @property
    def early(self) -> str:
        """Parked callbacks: ``<provider> <provider id>`` → when beat next looks for its record."""
        return f"{self.root}early"

    def early_events(self, provider: str, provider_message_id: str) -> str:
        return f"{self.root}early:{provider}:{provider_message_id}"

    @property
    def fallback_due(self) -> str:
        """RCS id → when its SMS fallback is due (its deadline, or soon once claimed and not yet created)."""
        return f"{self.root}fbdue"

    @property
    def webhook_watch(self) -> str:
        """Message id with a webhook → when beat next reads its history for new status changes."""
        return f"{self.root}wh:watch"

    @property
    def webhook_due(self) -> str:
        """Webhook event id → when its next POST attempt is due."""
        return f"{self.root}wh:due"

    def webhook_event(self, event_id: str) -> str:
        return f"{self.root}wh:e:{event_id}"

    def webhook_queue(self, message_id: str) -> str:
        """A message's undelivered webhook event ids, oldest first: only the oldest is due."""
        return f"{self.root}wh:q:{message_id}"
