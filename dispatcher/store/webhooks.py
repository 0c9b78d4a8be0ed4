"""Webhook events in the store: beat turns the status changes of watched messages into events
(``webhook_scan.lua``), senders lease due events, and each is deleted once delivered or retried
later (docs/pipeline.md §9). A message's events are delivered in order: only its oldest undelivered
event is due (``webhook_queue.lua``)."""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.store.base import StoreBase
from dispatcher.store.records import decoded

#: Watched messages whose history beat reads per call, and how soon it reads a live one again.
SCAN_CHUNK = 2000
RESCAN_AFTER_S = 0.5


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    url: str
    body: bytes
    attempts: int


class WebhookStore(StoreBase):
    def scan_webhooks(self, *, default_url: str | None, event_ttl_s: float) -> int:
        """New webhook events from the watched messages' histories; how many were created."""
        return int(
            self._scripts.webhook_scan(
                keys=[self._keys.webhook_watch, self._keys.webhook_due],
                args=[
                    self._keys.root,
                    SCAN_CHUNK,
                    default_url or "",
                    event_ttl_s,
                    RESCAN_AFTER_S,
                ],
            )
        )

    def take_webhooks(self, *, limit: int, lease_s: float) -> list[WebhookEvent]:
        """Due events, leased to the caller for ``lease_s``."""
        reply = self._scripts.claim_webhooks(
            keys=[self._keys.webhook_due], args=[self._keys.root, limit, lease_s]
        )
        return [
            WebhookEvent(decoded(event_id), decoded(url), body, int(attempts))
            for event_id, url, body, attempts in zip(
                reply[::4], reply[1::4], reply[2::4], reply[3::4], strict=True
            )
        ]

    def webhook_delivered(self, event_id: str) -> None:
        """The event is done (delivered, or dropped): deleted, and its message's next event due."""
        self._scripts.finish_webhook(keys=[self._keys.webhook_due], args=[self._keys.root, event_id])

    def webhook_failed(self, event_id: str, *, retry_after_s: float | None) -> None:
        """Count a failed attempt; try again ``retry_after_s`` from now, or drop the event when None."""
        if retry_after_s is None:
            self.webhook_delivered(event_id)
            return
        self._scripts.retry_webhook(
            keys=[self._keys.webhook_event(event_id), self._keys.webhook_due], args=[event_id, retry_after_s]
        )

    def pending_webhooks(self) -> int:
        return int(self._client.zcard(self._keys.webhook_due))
