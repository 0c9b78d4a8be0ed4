"""Beat's timed work beyond batches (docs/pipeline.md §6-§9): release scheduled messages (and ask
for an exact-time release when the next one is due before the next tick), apply parked callbacks
whose record has its provider id by now, send SMS fallbacks that are due, turn status changes into
webhook events and start a webhook sender when events wait."""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.callbacks.fallback import send_fallbacks
from dispatcher.pipeline.runtime import Runtime
from dispatcher.store.states import EXPIRED, FAILED, UNDELIVERED
from dispatcher.taskqueue import TRANSACTIONAL_QUEUE

RELEASE_TASK = "dispatcher.release_scheduled"
WEBHOOKS_TASK = "dispatcher.webhooks"
#: One webhook sender at a time: a lease under a name no lane can have.
WEBHOOKS_LOCK = "!webhooks"
WEBHOOKS_LEASE_S = 30.0
#: Beat's period; a message due sooner than this gets an exact-time release task.
TICK_INTERVAL_S = 1.0
#: States after which a parked report calls for the SMS fallback.
_FALLBACK_STATES = frozenset({UNDELIVERED, EXPIRED, FAILED})


@dataclass(frozen=True, slots=True)
class TimedReport:
    released: int = 0
    expired: int = 0
    early_applied: int = 0
    fallbacks: int = 0
    webhook_events: int = 0


def release_scheduled(runtime: Runtime) -> tuple[int, int]:
    """Release due scheduled messages (their lanes are kicked by the tick, or here when run alone)."""
    result = runtime.store.release_scheduled(limit=runtime.settings.release_per_tick)
    return result.released, result.expired


def run_timed(runtime: Runtime) -> TimedReport:
    store, settings = runtime.store, runtime.settings
    released, expired = release_scheduled(runtime)
    _ask_for_exact_release(runtime)
    applied = store.apply_early()
    failed_ids = [message_id for message_id, state in applied if state in _FALLBACK_STATES]
    fallbacks = send_fallbacks(store, runtime.tasks, settings, failed_ids) if failed_ids else 0
    fallbacks += send_fallbacks(store, runtime.tasks, settings, ())
    events = store.scan_webhooks(default_url=settings.webhook_url, event_ttl_s=settings.retention_s)
    if store.pending_webhooks():
        token = store.claim_runner(WEBHOOKS_LOCK, max_runners=1, lease_s=WEBHOOKS_LEASE_S)
        if token is not None:
            runtime.tasks.send_task(WEBHOOKS_TASK, args=[token], queue=TRANSACTIONAL_QUEUE)
    return TimedReport(released, expired, len(applied), fallbacks, events)


def _ask_for_exact_release(runtime: Runtime) -> None:
    """A message due before the next tick is released at its time by a task with that ETA, rather
    than up to a tick late (duplicates are harmless: the release script is atomic)."""
    next_at = runtime.store.next_release_at()
    now = runtime.store.now()
    if next_at is not None and now < next_at <= now + TICK_INTERVAL_S:
        runtime.tasks.send_task(RELEASE_TASK, queue=TRANSACTIONAL_QUEUE, countdown=next_at - now)
