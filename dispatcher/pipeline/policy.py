"""What to do after a provider request, and how big a request may be: pure decisions, no I/O.

The error type alone decides the action (docs/pipeline.md §4); the sender carries it out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from dispatcher.accounts import Account, BsgAccount, RevicomAccount
from dispatcher.errors import (
    AccountError,
    AmbiguousOutcome,
    BatchRejected,
    ProviderError,
    RateLimited,
    RetryableError,
)
from dispatcher.providers.revicom_wire import MAX_MESSAGES_PER_REQUEST, MAX_REQUEST_BODY_BYTES

T = TypeVar("T")

#: A 429 without a usable ``Retry-After`` pauses the lane this long.
DEFAULT_RATE_LIMIT_PAUSE_S = 1.0
#: A pause needs a positive TTL; ``Retry-After: 0`` still holds the lane this long.
MIN_PAUSE_S = 0.1
#: The smallest URL bytes one Smartswitch recipient adds (``&destination_number=<9 digits>``,
#: ``&require_dlr=1`` and a one-character body): taking more than the URL can hold is pointless.
MIN_SMARTSWITCH_GROUP_BYTES = 50
#: What a request tag adds to one Revicom item: ``,"tags":["<tag>"]`` and the separating comma.
REVICOM_TAG_OVERHEAD_BYTES = 16


class Action(StrEnum):
    RETRY = "retry"  # not sent: back off, then send again
    PAUSE_LANE = "pause_lane"  # the account cannot send (no TTL) or is throttled (``pause_for_s``)
    SPLIT = "split"  # the whole request refused: halve it to find the bad items
    REJECT = "reject"  # a request of one refused: that message is rejected
    RECONCILE = "reconcile"  # may have been accepted: ask the provider, never resend blindly


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str
    #: For ``PAUSE_LANE``: how long (``None``: until someone resumes it); for ``RETRY``: the
    #: provider's hint, the least a retry waits.
    wait_s: float | None = None


def decide(error: ProviderError, *, request_size: int) -> Decision:
    """The action for a failed request of ``request_size`` messages."""
    reason = str(error)
    if isinstance(error, RateLimited):
        pause_s = error.retry_after_s if error.retry_after_s is not None else DEFAULT_RATE_LIMIT_PAUSE_S
        return Decision(Action.PAUSE_LANE, reason, wait_s=max(pause_s, MIN_PAUSE_S))
    if isinstance(error, RetryableError):
        return Decision(Action.RETRY, reason, wait_s=error.retry_after_s)
    if isinstance(error, AccountError):
        return Decision(Action.PAUSE_LANE, reason)
    if isinstance(error, BatchRejected):
        return Decision(Action.REJECT if request_size == 1 else Action.SPLIT, f"{error.code} {error.reason}")
    if isinstance(error, AmbiguousOutcome):
        return Decision(Action.RECONCILE, reason)
    # A ProviderError outside the tree's leaves: we cannot tell whether it was sent.
    return Decision(Action.RECONCILE, reason)


def backoff_s(attempt: int, *, base_s: float, cap_s: float, random: Callable[[], float]) -> float:
    """Wait before retry number ``attempt`` (1 = the first): full jitter over an exponential, capped.

    Full jitter spreads the retries of a batch that failed together, so they do not come back as
    one burst (the AWS architecture blog's "exponential backoff and jitter").
    """
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, 62))
    return random() * ceiling


class RetryCandidate(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def attempts(self) -> int: ...

    @property
    def deadline(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RetryPlan:
    waits: list[tuple[str, float]]  # message id -> seconds before it may go back to its lane
    failed: list[str]  # no attempt left before its deadline or the attempt limit


def plan_retries(
    items: Sequence[RetryCandidate],
    *,
    now: float,
    max_attempts: int,
    base_s: float,
    cap_s: float,
    at_least_s: float | None,
    random: Callable[[], float],
) -> RetryPlan:
    """Retry or fail each message of a request that certainly was not accepted.

    ``item.attempts`` counts requests before this one; this one counts too. ``now``: Redis' clock,
    the one the deadlines were set by.
    """
    waits: list[tuple[str, float]] = []
    failed: list[str] = []
    for item in items:
        made = item.attempts + 1
        wait_s = max(backoff_s(made, base_s=base_s, cap_s=cap_s, random=random), at_least_s or 0.0)
        if made >= max_attempts or now + wait_s >= item.deadline:
            failed.append(item.id)
        else:
            waits.append((item.id, wait_s))
    return RetryPlan(waits=waits, failed=failed)


def take_size(account: Account) -> int:
    """How many messages a dispatch task takes from the lane at once: one request's worth."""
    if isinstance(account, RevicomAccount):
        return MAX_MESSAGES_PER_REQUEST
    if isinstance(account, BsgAccount):
        return 1
    return max(1, account.max_url_bytes // MIN_SMARTSWITCH_GROUP_BYTES)


def revicom_fitting(item_bytes: Sequence[int], *, tag: str) -> int:
    """How many leading items (their JSON sizes) fit one Revicom request body with ``tag``."""
    used = 2  # the array's brackets
    for count, size in enumerate(item_bytes):
        used += size + len(tag) + REVICOM_TAG_OVERHEAD_BYTES
        if used > MAX_REQUEST_BODY_BYTES or count == MAX_MESSAGES_PER_REQUEST:
            return max(count, 1)
    return len(item_bytes)


def halves(items: Sequence[T]) -> tuple[Sequence[T], Sequence[T]]:
    middle = len(items) // 2
    return items[:middle], items[middle:]


def linger_s(priority_class: str, *, bulk_s: float, transactional_s: float) -> float:
    """How long a lane waits for a fuller batch before taking a short one."""
    return bulk_s if priority_class == "bulk" else transactional_s
