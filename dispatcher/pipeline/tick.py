"""Beat's work, once a second (docs/pipeline.md §4): release due retries, give back batches taken
but never posted, have posting batches past their deadline reconciled, kick every lane that has
waiting messages and no runner, and discard campaigns whose producer died before releasing them;
plus the timed work of ``timed`` (schedules, parked callbacks, fallbacks, webhooks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.timed import TimedReport, run_timed
from dispatcher.taskqueue import RECONCILE_TASK, kick, queue_for_lane

log = logging.getLogger(__name__)

#: One tick at a time, whichever worker runs it: a lease under a name no lane can have.
TICK_LOCK = "!tick"
TICK_LEASE_S = 30.0


@dataclass(frozen=True, slots=True)
class TickReport:
    released: int
    reclaimed: int
    reconciling: int
    kicked: int
    discarded: int = 0
    timed: TimedReport = field(default_factory=TimedReport)


def run_tick(runtime: Runtime) -> TickReport | None:
    """One tick; ``None`` when another is still running."""
    store = runtime.store
    token = store.claim_runner(TICK_LOCK, max_runners=1, lease_s=TICK_LEASE_S, now=runtime.clock())
    if token is None:
        return None
    try:
        return _tick(runtime)
    finally:
        store.release_runner(TICK_LOCK, token)


def _tick(runtime: Runtime) -> TickReport:
    store = runtime.store
    # Before the kicks below, so the lanes that scheduled messages just joined are started too.
    timed = run_timed(runtime)
    released = store.release_due_retries(now=runtime.clock())
    reclaimed = reconciling = 0
    for batch in store.due_batches(now=runtime.clock()):
        if batch.state == "taken":
            ids = [item.id for item in batch.items]
            # Atomic with the check: a worker may have marked it posting since due_batches read it.
            reclaimed += store.requeue(
                batch.id, ids, reason="taken but never posted", now=runtime.clock(), only_if_state="taken"
            )
        else:
            runtime.tasks.send_task(
                RECONCILE_TASK, args=[batch.id, batch.lane], queue=queue_for_lane(batch.lane)
            )
            reconciling += 1
    kicked = sum(
        kick(store, runtime.tasks, lane, runtime.settings, now=runtime.clock())
        for lane in store.lanes_needing_runner(now=runtime.clock())
    )
    # Held campaigns were never accepted (their producer got no id back): removing them loses nothing.
    abandoned = store.held_campaigns(began_before=runtime.clock() - runtime.settings.held_campaign_timeout_s)
    discarded = sum(store.discard_campaign(campaign_id) for campaign_id in abandoned)
    report = TickReport(
        released=released,
        reclaimed=reclaimed,
        reconciling=reconciling,
        kicked=kicked,
        discarded=discarded,
        timed=timed,
    )
    if released or reclaimed or reconciling or kicked or discarded or timed != TimedReport():
        log.info("tick: %s", report)
    return report
