"""An account's limits as the limiter applies them to one priority class, and the request size they
allow: pure arithmetic, no I/O (docs/pipeline.md §5).

The limiter is a GCRA (a token bucket kept as one "theoretical arrival time" per bucket) with two
buckets per account: messages (cost = the request's message count) and requests (cost 1). Both
start full. Bulk and transactional share them, but bulk may only take tokens while, after taking,
more than the reserve is left: a saturating campaign leaves the reserve for voice codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dispatcher.accounts import AccountLimits

TRANSACTIONAL = "transactional"

#: A request carries at most this long's worth of the account's message rate (unless the requests/s
#: limit needs bigger ones to reach it): a 50 msg/s account sends 10 at a time, not 1,000.
BATCH_WINDOW_S = 0.15
#: A dispatch task sleeps on its worker slot for a permit at most this long in total; a longer
#: wait hands the batch back to the lane and reschedules the lane (the slot serves others).
MAX_WAIT_S = 0.25


@dataclass(frozen=True, slots=True)
class Bucket:
    """One GCRA bucket: tokens refill every ``interval_s``; it holds ``tolerance_s / interval_s``."""

    interval_s: float
    tolerance_s: float
    #: Tokens a taker must leave in the bucket, as time (0 for transactional traffic).
    reserve_s: float


@dataclass(frozen=True, slots=True)
class Quota:
    """What one priority class of one account may take."""

    messages: Bucket
    requests: Bucket
    #: At most this many requests in flight (0: no limit).
    max_leases: int
    #: Leases this class must leave free for transactional traffic.
    lease_reserve: int
    #: The most messages one request may carry and still be granted some day.
    max_cost: int


def request_burst(limits: AccountLimits) -> int:
    """Requests that may go at once: the requests bucket drains as fast as the messages bucket
    (``burst / messages_per_s`` seconds of the request rate), at least one."""
    return max(1, round(limits.requests_per_s * limits.burst / limits.messages_per_s))


def reserved_tokens(capacity: int, share: float) -> int:
    """Whole tokens kept for transactional traffic; always below the capacity (bulk needs one)."""
    return min(math.floor(capacity * share), capacity - 1)


def quota_for(limits: AccountLimits, priority_class: str) -> Quota:
    share = 0.0 if priority_class == TRANSACTIONAL else limits.transactional_reserve
    message_interval_s = 1.0 / limits.messages_per_s
    request_interval_s = 1.0 / limits.requests_per_s
    requests_capacity = request_burst(limits)
    message_reserve = reserved_tokens(limits.burst, share)
    max_leases = limits.max_concurrent_requests or 0
    return Quota(
        messages=Bucket(
            interval_s=message_interval_s,
            tolerance_s=limits.burst * message_interval_s,
            reserve_s=message_reserve * message_interval_s,
        ),
        requests=Bucket(
            interval_s=request_interval_s,
            tolerance_s=requests_capacity * request_interval_s,
            reserve_s=reserved_tokens(requests_capacity, share) * request_interval_s,
        ),
        max_leases=max_leases,
        lease_reserve=reserved_tokens(max_leases, share) if max_leases else 0,
        max_cost=limits.burst - message_reserve,
    )


def batch_limit(limits: AccountLimits, priority_class: str) -> int:
    """The most messages one request of this class should carry under these limits.

    Small enough that its permit comes after a short wait, big enough that the requests/s limit does
    not cap the message rate, and never above what the class may take from the bucket at all.
    """
    by_rate = max(limits.messages_per_s * BATCH_WINDOW_S, limits.messages_per_s / limits.requests_per_s)
    return max(1, min(math.floor(by_rate), quota_for(limits, priority_class).max_cost))
