"""POSTing due webhook events: leased from the store, sent from a few threads with a short
timeout, then deleted (2xx) or retried later with backoff; dropped after the attempt limit, or at
once when the URL's host is (now) an address webhooks may not reach: logged and counted either way.
Runs in its own task, so a slow receiver never holds up sending messages. Only the oldest
undelivered event of a message is ever due (the store keeps them in order), so a receiver gets a
message's status changes in the order they happened."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum

import requests
from standardwebhooks import Webhook

from dispatcher.metrics.events import WEBHOOK_EVENTS
from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.store.webhooks import WebhookEvent
from dispatcher.webhooks.addresses import (
    AddressPolicy,
    WebhookAddressRefused,
    check_webhook_host,
    parse_networks,
)
from dispatcher.webhooks.backoff import retry_delay_s
from dispatcher.webhooks.signing import signed_headers, webhook_key
from dispatcher.webhooks.transport import guarded_session

log = logging.getLogger(__name__)

EVENTS_PER_ROUND = 64
THREADS = 8


class Outcome(Enum):
    DELIVERED = "delivered"
    FAILED = "failed"  # retried later, or dropped once the attempts are spent
    REFUSED = "refused"  # the address is not allowed: dropped at once


@dataclass(frozen=True, slots=True)
class WebhookReport:
    delivered: int
    failed: int
    dropped: int = 0


def deliver_due(store: Store, settings: Settings, *, slice_s: float = 5.0) -> WebhookReport:
    """Send due events until none is due or ``slice_s`` passed."""
    if settings.webhook_secret is None:
        return WebhookReport(0, 0)  # no event is made without one: intake refuses webhook URLs
    signer = webhook_key(settings.webhook_secret.get_secret_value())
    policy = AddressPolicy(parse_networks(settings.webhook_allow_networks))
    delivered = failed = dropped = 0
    started = time.monotonic()
    with (
        guarded_session(policy) as session,
        ThreadPoolExecutor(THREADS, thread_name_prefix="webhook") as pool,
    ):
        while time.monotonic() - started < slice_s:
            events = store.take_webhooks(limit=EVENTS_PER_ROUND, lease_s=settings.webhook_timeout_s * 2)
            if not events:
                break
            # One timestamp per round, from Redis: receivers compare it with their clocks.
            poster = _Poster(session, signer, policy, settings.webhook_timeout_s, int(store.now()))
            outcomes = pool.map(poster.post, events)
            for event, outcome in zip(events, outcomes, strict=True):
                if outcome is Outcome.DELIVERED:
                    store.webhook_delivered(event.id)
                    delivered += 1
                    continue
                failed += 1
                attempts = event.attempts + 1
                if outcome is Outcome.REFUSED or attempts >= settings.webhook_max_attempts:
                    _drop(store, event, attempts, outcome)
                    dropped += 1
                    continue
                delay_s = retry_delay_s(
                    attempts, base_s=settings.webhook_backoff_base_s, cap_s=settings.webhook_backoff_cap_s
                )
                store.webhook_failed(event.id, retry_after_s=delay_s)
    WEBHOOK_EVENTS.labels("delivered").inc(delivered)
    WEBHOOK_EVENTS.labels("dropped").inc(dropped)
    return WebhookReport(delivered, failed, dropped)


def _drop(store: Store, event: WebhookEvent, attempts: int, outcome: Outcome) -> None:
    why = "its URL's address is not allowed" if outcome is Outcome.REFUSED else f"{attempts} failed attempts"
    log.warning("webhook event %s dropped after %s: the receiver will not get it", event.id, why)
    store.webhook_failed(event.id, retry_after_s=None)


@dataclass(frozen=True, slots=True)
class _Poster:
    """One round's POSTs: the session, the signer and the address rule."""

    session: requests.Session
    signer: Webhook
    policy: AddressPolicy
    timeout_s: float
    timestamp_s: int

    def post(self, event: WebhookEvent) -> Outcome:
        try:
            # Checked by name first (a clear log line), then by the address connected (transport).
            check_webhook_host(event.url, self.policy)
            response = self.session.post(
                event.url,
                data=event.body,
                headers=signed_headers(self.signer, event.id, self.timestamp_s, event.body),
                timeout=self.timeout_s,
                allow_redirects=False,
            )
        except WebhookAddressRefused as exc:
            log.warning("webhook event %s: refused: %s", event.id, exc)
            return Outcome.REFUSED
        except (requests.RequestException, OSError) as exc:  # OSError: the name did not resolve
            log.warning("webhook event %s: %s", event.id, type(exc).__name__)
            return Outcome.FAILED
        if 200 <= response.status_code < 300:
            return Outcome.DELIVERED
        log.warning("webhook event %s: HTTP %d", event.id, response.status_code)
        return Outcome.FAILED
