"""Beat's work, once a second (docs/pipeline.md §4): release due retries, give back batches taken
but never posted, have posting batches past their deadline reconciled, kick every lane that has
waiting messages and no runner, finish releasing committed campaigns whose producer could not, and
discard campaigns never committed whose producer died; plus the timed work of ``timed``
(schedules, parked callbacks, fallbacks, webhooks). Every "due" here is by Redis' clock."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis

from dispatcher.pipeline.release import release_committed
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.timed import TimedReport, run_timed
from dispatcher.store.campaigns import CHECKING, HeldCampaign
from dispatcher.taskqueue import RECONCILE_TASK, queue_for_lane, try_kick

log = logging.getLogger(__name__)

#: One tick at a time, whichever worker runs it: a lease under a name no lane can have.
TICK_LOCK = "!tick"
TICK_LEASE_S = 30.0
#: Release calls per committed campaign per tick (10,000 ids each): the rest waits a second.
RELEASE_CALLS_PER_TICK = 10
#: Beat takes over a committed campaign's release this long after its commit: its producer releases
#: a million ids in about a second, so one still releasing by then has stopped (helping earlier would
#: only make two processes kick the same lane).
RELEASE_TAKEOVER_S = 5.0


@dataclass(frozen=True, slots=True)
class TickReport:
    released: int
    reclaimed: int
    reconciling: int
    kicked: int
    discarded: int = 0
    #: Ids of committed campaigns released by beat (their producer did not finish).
    campaign_released: int = 0
    timed: TimedReport = field(default_factory=TimedReport)


def run_tick(runtime: Runtime) -> TickReport | None:
    """One tick; ``None`` when another is still running, or when the store is full (Redis at
    maxmemory refuses every write: the next tick tries again)."""
    store = runtime.store
    try:
        token = store.claim_runner(TICK_LOCK, max_runners=1, lease_s=TICK_LEASE_S)
        if token is None:
            return None
        try:
            return _tick(runtime)
        finally:
            store.release_runner(TICK_LOCK, token)
    except redis.exceptions.OutOfMemoryError:
        log.warning("tick: the store is full (Redis maxmemory); nothing moves until memory frees")
        return None


def _tick(runtime: Runtime) -> TickReport:
    store, settings = runtime.store, runtime.settings
    # Before the kicks below, so the lanes that scheduled messages just joined are started too.
    timed = run_timed(runtime)
    released = store.release_due_retries()
    reclaimed = reconciling = 0
    for batch in store.due_batches():
        if batch.state == "taken":
            ids = [item.id for item in batch.items]
            # Atomic with the check: a worker may have marked it posting since due_batches read it.
            reclaimed += store.requeue(batch.id, ids, reason="taken but never posted", only_if_state="taken")
        else:
            try:
                runtime.tasks.send_task(
                    RECONCILE_TASK, args=[batch.id, batch.lane], queue=queue_for_lane(batch.lane)
                )
            except Exception as exc:  # the batch stays due: the next tick asks again
                log.warning("batch %s: reconciliation not sent (%s)", batch.id, type(exc).__name__)
                continue
            reconciling += 1
    campaign_released, discarded = _sweep_campaigns(runtime)
    lanes = store.lanes_needing_runner()
    kicked = sum(try_kick(store, runtime.tasks, lane, settings) == "sent" for lane in lanes)
    report = TickReport(
        released=released,
        reclaimed=reclaimed,
        reconciling=reconciling,
        kicked=kicked,
        discarded=discarded,
        campaign_released=campaign_released,
        timed=timed,
    )
    counts = (released, reclaimed, reconciling, kicked, discarded, campaign_released)
    if any(counts) or timed != TimedReport():
        log.info("tick: %s", report)
    return report


def _sweep_campaigns(runtime: Runtime) -> tuple[int, int]:
    """A committed campaign still releasing is released on (never discarded: it was accepted); one
    never committed is discarded once older than ``held_campaign_timeout_s``, or once its
    producer's lease ran out (it got no id back, so removing it loses nothing; a replay with the
    same id creates it afresh). Returns (ids released, messages discarded)."""
    store, settings = runtime.store, runtime.settings
    released = discarded = 0
    for campaign in store.held_campaigns():
        if campaign.phase == "releasing":
            if campaign.committed_s is None or campaign.committed_s < RELEASE_TAKEOVER_S:
                continue
            count, _ = release_committed(
                store, runtime.tasks, settings, campaign.id, campaign.lane, max_chunks=RELEASE_CALLS_PER_TICK
            )
            released += count
        elif campaign.age_s > settings.held_campaign_timeout_s or _lease_ran_out(campaign):
            # Only while it is still the producer's we saw: a replay may have claimed it since.
            discarded += store.discard_campaign(campaign.id, owner=campaign.owner)
    if released:
        log.info("tick: released %d ids of committed campaigns", released)
    if discarded:
        log.warning("tick: discarded %d messages of campaigns never committed", discarded)
    return released, discarded


def _lease_ran_out(campaign: HeldCampaign) -> bool:
    """A campaign being checked whose producer stopped renewing its claim (it died, or hangs)."""
    return campaign.phase == CHECKING and campaign.lease_left_s is not None and campaign.lease_left_s < 0
