"""The dispatch task's loop: take batches from one lane and send them until the lane is empty or
paused, the account's rate limit makes it wait too long, the task's time slice is over, or the task
no longer holds its runner lease (docs/pipeline.md §4, §5)."""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field

import redis

from dispatcher.accounts import Account
from dispatcher.pipeline.policy import linger_s, take_size
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.sender import send_batch
from dispatcher.ratelimit import batch_limit
from dispatcher.store.states import EXPIRED, FAILED
from dispatcher.taskqueue import DISPATCH_TASK, queue_for_lane, split_lane, try_kick

log = logging.getLogger(__name__)

#: A throttled lane's next dispatch task is delayed at most this long (a longer pause, e.g. a long
#: ``Retry-After``, is waited out in several steps): Celery countdowns must stay short (docs/architecture.md).
MAX_RESCHEDULE_S = 10.0
#: A pause set elsewhere (another worker's account error, an operator) stops the loop within this long.
PAUSE_CHECK_S = 0.5
#: The lease is renewed when the task starts (a stale task stops there), then after a batch whenever
#: this share of it has passed.
RENEW_SHARE = 1 / 3


@dataclass
class DispatchReport:
    lane: str
    batches: int = 0
    requests: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    #: Why the loop ended: ``empty``, ``paused``, ``throttled``, ``slice``, ``lease_lost`` (the
    #: lease expired before the task ran or renewed it: another task may hold the slot now) or
    #: ``store_full`` (Redis at maxmemory refused a write: beat starts the lane again once it can).
    stopped: str = ""
    kicked: bool = False
    #: When throttled: how far off the account's next permit was.
    throttled_for_s: float = 0.0


def run_dispatch(runtime: Runtime, lane: str, token: str) -> DispatchReport:
    """Work ``lane`` under the runner lease ``token``; the lease is released on the way out, and the
    lane kicked again if messages still wait (the slice ended, or some arrived meanwhile)."""
    settings, store = runtime.settings, runtime.store
    priority_class = split_lane(lane)[1]
    max_size = request_size(runtime.lane_account(lane), priority_class)
    linger = linger_s(
        priority_class, bulk_s=settings.bulk_linger_s, transactional_s=settings.transactional_linger_s
    )
    slice_ends = runtime.monotonic() + settings.dispatch_slice_s
    report = DispatchReport(lane)
    if not store.renew_runner(lane, token, lease_s=settings.runner_lease_s):
        # A stale task (delivered again by the broker, or after its lease ran out in the queue):
        # working the lane now could put it above its runner cap.
        report.stopped = "lease_lost"
        log.info("lane %s: lease %s no longer held; not working the lane", lane, token)
        return report
    try:
        report.stopped = _drain(
            runtime, lane, token, max_size=max_size, linger=linger, until=slice_ends, report=report
        )
    except redis.exceptions.OutOfMemoryError:
        # Every write is refused until memory frees; what this task holds is safe (a batch taken or
        # posting is reclaimed or reconciled by beat). Stop rather than fail the same way per batch.
        report.stopped = "store_full"
        log.warning("lane %s: the store is full (Redis maxmemory); stopping until beat restarts it", lane)
    finally:
        store.release_runner(lane, token)
    if report.stopped == "throttled":
        report.kicked = reschedule(runtime, lane, delay_s=report.throttled_for_s)
    elif (
        report.stopped not in ("paused", "lease_lost", "store_full")
        and store.lane_paused(lane) is None
        and store.lane_depth(lane) > 0
    ):
        report.kicked = try_kick(store, runtime.tasks, lane, settings) == "sent"
    log.info(
        "lane %s: %d batches, %d requests, %s, stopped: %s",
        lane,
        report.batches,
        report.requests,
        dict(report.counts),
        report.stopped,
    )
    return report


def request_size(account: Account, priority_class: str) -> int:
    """How many messages to take at once: one request's worth, within the account's rate limit."""
    provider_max = take_size(account)
    if account.limits is None:
        return provider_max
    return min(provider_max, batch_limit(account.limits, priority_class))


def reschedule(runtime: Runtime, lane: str, *, delay_s: float) -> bool:
    """After a hand-back: start the lane's next dispatch task when its permit is due, unless another
    task still works the lane (it carries on; several tasks polling one throttled account only
    contend for the same tokens). Beat kicks the lane anyway if this task is lost, or cannot be sent."""
    delay_s = min(delay_s, MAX_RESCHEDULE_S)
    settings = runtime.settings
    token = runtime.store.claim_runner(lane, max_runners=1, lease_s=delay_s + settings.runner_lease_s)
    if token is None:
        return False
    try:
        runtime.tasks.send_task(
            DISPATCH_TASK, args=[lane, token], queue=queue_for_lane(lane), countdown=delay_s
        )
    except Exception as exc:  # the batch is back in its lane: beat starts it again
        runtime.store.release_runner(lane, token)
        log.warning("lane %s: next dispatch not scheduled (%s); beat will start it", lane, type(exc).__name__)
        return False
    return True


def _drain(
    runtime: Runtime,
    lane: str,
    token: str,
    *,
    max_size: int,
    linger: float,
    until: float,
    report: DispatchReport,
) -> str:
    # Small Redis calls are spaced out rather than made per batch: each waits behind the other
    # runners' take/record scripts (milliseconds for 1,000 messages), which adds up per batch.
    settings, store = runtime.settings, runtime.store
    pause_checked_at = -math.inf
    renewed_at = runtime.monotonic()  # run_dispatch renewed the lease just before
    last_full = False
    while True:
        now = runtime.monotonic()
        if now - pause_checked_at >= PAUSE_CHECK_S:
            if store.lane_paused(lane) is not None:
                return "paused"
            pause_checked_at = now
        if now >= until:
            return "slice"
        if linger > 0 and not last_full and store.lane_depth(lane) < max_size:
            # A short wait lets single sends arriving together leave in one request; a
            # lane that just filled a batch has a backlog and needs none.
            runtime.sleep(linger)
        batch = store.take_batch(
            lane, max_size=max_size, worker=runtime.worker, take_timeout_s=settings.take_timeout_s
        )
        if batch is None:
            return "empty"
        report.counts.update(
            {state: n for state, n in ((EXPIRED, batch.expired), (FAILED, batch.failed)) if n}
        )
        if not batch.items:
            continue  # every id it looked at had finished or expired: look further
        last_full = len(batch.items) >= max_size
        sent = send_batch(runtime, batch)
        report.batches += 1
        report.requests += sent.requests
        report.counts.update(sent.counts)
        if sent.lane_paused:
            return "paused"
        if sent.throttled_for_s is not None:
            report.throttled_for_s = sent.throttled_for_s
            return "throttled"
        now = runtime.monotonic()
        if now - renewed_at >= settings.runner_lease_s * RENEW_SHARE:
            if not store.renew_runner(lane, token, lease_s=settings.runner_lease_s):
                return "lease_lost"
            renewed_at = now
