"""POSTing due webhook events: leased from the store, sent from a few threads with a short
timeout, then deleted (2xx) or retried later with backoff; given up after the attempt limit.
Runs in its own task, so a slow receiver never holds up sending messages."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.store.webhooks import WebhookEvent
from dispatcher.webhooks.signing import retry_delay_s, signed_headers

log = logging.getLogger(__name__)

EVENTS_PER_ROUND = 64
THREADS = 8


@dataclass(frozen=True, slots=True)
class WebhookReport:
    delivered: int
    failed: int


def deliver_due(store: Store, settings: Settings, *, slice_s: float = 5.0) -> WebhookReport:
    """Send due events until none is due or ``slice_s`` passed."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret is not None else ""
    delivered = failed = 0
    started = time.monotonic()
    with requests.Session() as session, ThreadPoolExecutor(THREADS, thread_name_prefix="webhook") as pool:
        while time.monotonic() - started < slice_s:
            events = store.take_webhooks(limit=EVENTS_PER_ROUND, lease_s=settings.webhook_timeout_s * 2)
            if not events:
                break
            for event, ok in zip(
                events, pool.map(lambda e: _post(session, settings, secret, e), events), strict=True
            ):
                if ok:
                    store.webhook_delivered(event.id)
                    delivered += 1
                else:
                    attempts = event.attempts + 1
                    delay_s = retry_delay_s(
                        attempts, base_s=settings.webhook_backoff_base_s, cap_s=settings.webhook_backoff_cap_s
                    )
                    give_up = attempts >= settings.webhook_max_attempts
                    store.webhook_failed(event.id, retry_after_s=None if give_up else delay_s)
                    failed += 1
    return WebhookReport(delivered, failed)


def _post(session: requests.Session, settings: Settings, secret: str, event: WebhookEvent) -> bool:
    timestamp = f"{int(time.time())}"
    try:
        response = session.post(
            event.url,
            data=event.body,
            headers=signed_headers(secret, timestamp, event.body),
            timeout=settings.webhook_timeout_s,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        log.warning("webhook %s: %s", event.id, type(exc).__name__)
        return False
    if 200 <= response.status_code < 300:
        return True
    log.warning("webhook %s: HTTP %d", event.id, response.status_code)
    return False
