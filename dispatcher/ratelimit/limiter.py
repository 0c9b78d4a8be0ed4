"""The limiter's interface: what a decision returns, what the pipeline and ``dispatcher lanes`` call.

Two implementations: ``RedisLimiter`` (one atomic script per decision, shared by every worker on
every machine) and ``MemoryLimiter`` (the same rules in one process, for unit tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dispatcher.ratelimit.quota import Quota

#: Why a permit was refused.
PAUSED = "paused"  # a provider 429: the whole account waits for its Retry-After
RATE = "rate"  # not enough tokens in the messages or requests bucket
CONCURRENCY = "concurrency"  # max_concurrent_requests requests already in flight


@dataclass(frozen=True, slots=True)
class Permit:
    granted: bool
    #: When refused: how long until it could be granted (0 when granted).
    wait_s: float = 0.0
    reason: str = ""
    #: When the account limits concurrency: the lease to release once the request is over.
    lease: str | None = None
    #: Share of the messages bucket in use after the decision (0 = full bucket, 1 = empty).
    messages_used: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountUsage:
    """A snapshot of one account's limiter, shared by all workers."""

    account: str
    messages_used: float
    requests_used: float
    leases: int
    paused: str | None
    paused_for_s: float | None
    #: Messages granted in the last whole second.
    last_second_messages: int
    granted_messages: int
    granted_requests: int
    denials: int
    #: Time dispatch tasks slept waiting for permits, and batches they handed back instead.
    waited_s: float
    handbacks: int


class Limiter(Protocol):
    def acquire(self, account: str, quota: Quota, *, messages: int, lease_s: float) -> Permit:
        """Grant a request of ``messages`` messages now (taking its tokens), or say how long to wait."""

    def release(self, account: str, lease: str) -> None:
        """The request of this lease is over (a no-op for an expired lease)."""

    def pause(self, account: str, reason: str, *, for_s: float) -> None:
        """Refuse every request of the account for ``for_s`` seconds (a provider 429)."""

    def record_wait(self, account: str, *, waited_s: float, handed_back: bool) -> None:
        """Count time slept for permits and batches handed back (for ``dispatcher lanes``)."""

    def usage(self, account: str, quota: Quota) -> AccountUsage: ...
