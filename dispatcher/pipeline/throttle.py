"""The account's permit before each provider request (docs/pipeline.md §5): sleep on the
worker slot only for a short moment; a permit further off is refused here, and the caller hands
the batch back to its lane and reschedules the lane instead."""

from __future__ import annotations

from dispatcher.metrics.events import (
    RATE_LIMIT_BUCKET_USED,
    RATE_LIMIT_GRANTED_MESSAGES,
    RATE_LIMIT_HANDBACKS,
    RATE_LIMIT_PAUSES,
    RATE_LIMIT_WAIT_SECONDS,
)
from dispatcher.pipeline.runtime import Runtime
from dispatcher.ratelimit import MAX_WAIT_S, Permit, quota_for
from dispatcher.taskqueue import split_lane

GRANTED = Permit(True)


def worth_waiting(waited_s: float, permit: Permit) -> bool:
    """Sleep for this refused permit, rather than hand the batch back?"""
    return waited_s + permit.wait_s <= MAX_WAIT_S


def admit(runtime: Runtime, lane: str, *, messages: int) -> Permit:
    """A granted permit for a request of ``messages`` on ``lane`` (after at most ``MAX_WAIT_S`` of
    sleep), or the refusal that was too far off to wait for."""
    account = runtime.lane_account(lane)
    if account.limits is None:
        return GRANTED
    priority_class = split_lane(lane)[1]
    quota = quota_for(account.limits, priority_class)
    lease_s = runtime.reclaim_after_posting_s(account)
    waited_s = 0.0
    while True:
        permit = runtime.limiter.acquire(account.name, quota, messages=messages, lease_s=lease_s)
        if permit.granted or not worth_waiting(waited_s, permit):
            break
        runtime.sleep(permit.wait_s)
        waited_s += permit.wait_s
    RATE_LIMIT_BUCKET_USED.labels(account.name).set(permit.messages_used)
    if permit.granted:
        RATE_LIMIT_WAIT_SECONDS.labels(account.name, priority_class).observe(waited_s)
        RATE_LIMIT_GRANTED_MESSAGES.labels(account.name, priority_class).inc(messages)
    else:
        RATE_LIMIT_HANDBACKS.labels(account.name, priority_class, permit.reason).inc()
    if waited_s or not permit.granted:
        runtime.limiter.record_wait(account.name, waited_s=waited_s, handed_back=not permit.granted)
    return permit


def release(runtime: Runtime, lane: str, permit: Permit) -> None:
    if permit.lease is not None:
        runtime.limiter.release(runtime.lane_account(lane).name, permit.lease)


def pause_account(runtime: Runtime, lane: str, reason: str, *, for_s: float) -> None:
    """A provider 429 throttles the account, not one lane: every worker on every lane waits."""
    account = runtime.lane_account(lane).name
    runtime.limiter.pause(account, reason, for_s=for_s)
    RATE_LIMIT_PAUSES.labels(account).inc()
