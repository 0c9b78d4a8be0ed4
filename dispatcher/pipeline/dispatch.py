"""The dispatch task's loop: take batches from one lane and send them until the lane is empty or
paused, the account's rate limit makes it wait too long, or the task's time slice is over
(docs/pipeline.md §4, §5)."""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field

from dispatcher.accounts import Account
from dispatcher.pipeline.policy import linger_s, take_size
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.sender import send_batch
from dispatcher.ratelimit import batch_limit
from dispatcher.taskqueue import DISPATCH_TASK, kick, queue_for_lane, split_lane

log = logging.getLogger(__name__)

#: A throttled lane's next dispatch task is delayed at most this long (a longer pause, e.g. a long
#: ``Retry-After``, is waited out in several steps): Celery countdowns must stay short (DESIGN §3).
MAX_RESCHEDULE_S = 10.0
#: A pause set elsewhere (another worker's account error, an operator) stops the loop within this long.
PAUSE_CHECK_S = 0.5
#: The lease is renewed after the first batch, then whenever this share of it has passed.
RENEW_SHARE = 1 / 3


@dataclass
class DispatchReport:
    lane: str
    batches: int = 0
    requests: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    #: Why the loop ended: ``empty``, ``paused``, ``throttled`` or ``slice``.
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
    slice_ends = runtime.clock() + settings.dispatch_slice_s
    report = DispatchReport(lane)
    try:
        report.stopped = _drain(
            runtime, lane, token, max_size=max_size, linger=linger, until=slice_ends, report=report
        )
    finally:
        store.release_runner(lane, token)
    if report.stopped == "throttled":
        report.kicked = reschedule(runtime, lane, delay_s=report.throttled_for_s)
    elif report.stopped != "paused" and store.lane_paused(lane) is None and store.lane_depth(lane) > 0:
        report.kicked = kick(store, runtime.tasks, lane, settings, now=runtime.clock())
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
    contend for the same tokens). Beat kicks the lane anyway if this task is lost."""
    delay_s = min(delay_s, MAX_RESCHEDULE_S)
    settings = runtime.settings
    token = runtime.store.claim_runner(
        lane, max_runners=1, lease_s=delay_s + settings.runner_lease_s, now=runtime.clock()
    )
    if token is None:
        return False
    try:
        runtime.tasks.send_task(
            DISPATCH_TASK, args=[lane, token], queue=queue_for_lane(lane), countdown=delay_s
        )
    except Exception:
        runtime.store.release_runner(lane, token)
        raise
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
    pause_checked_at = renewed_at = -math.inf
    last_full = False
    while True:
        now = runtime.clock()
        if now - pause_checked_at >= PAUSE_CHECK_S:
            if store.lane_paused(lane) is not None:
                return "paused"
            pause_checked_at = now
        if now >= until:
            return "slice"
        if linger > 0 and not last_full and store.lane_depth(lane) < max_size:
            # A short wait lets single sends arriving together leave in one request (DESIGN §3); a
            # lane that just filled a batch has a backlog and needs none.
            runtime.sleep(linger)
        batch = store.take_batch(
            lane,
            max_size=max_size,
            worker=runtime.worker,
            now=runtime.clock(),
            take_timeout_s=settings.take_timeout_s,
        )
        if batch is None:
            return "empty"
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
        now = runtime.clock()
        if now - renewed_at >= settings.runner_lease_s * RENEW_SHARE:
            store.renew_runner(lane, token, lease_s=settings.runner_lease_s, now=now)
            renewed_at = now
