"""Redis errors of an intake call, said the way the error tree says them (``dispatcher.errors``):
which ids the call stored, which it may have stored, and that nothing else was; and the one read of
Redis' clock an intake call may need (to check a send time, or find a window's next opening).

What a Redis error tells about a write: a refusal (maxmemory, a replica, a server still loading, bad
credentials) means it was not applied; the store's scripts are refused at their first write, never
half-way. A broken connection or a timeout after the retries of ``dispatcher.store.connection``
leaves it unknown: the request may have reached Redis.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from dispatcher.errors import StoreError, StoreFull, StoreOutcomeUnknown, StoreUnavailable
from dispatcher.store import Store

#: Connection errors redis-py raises for a request Redis certainly did not run.
_NOT_APPLIED = (
    redis.exceptions.AuthenticationError,
    redis.exceptions.AuthorizationError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.MaxConnectionsError,
)


def write_may_be_applied(error: redis.RedisError) -> bool:
    """Whether the write that raised ``error`` may have been applied all the same."""
    return isinstance(error, redis.ConnectionError | redis.TimeoutError) and not isinstance(
        error, _NOT_APPLIED
    )


def intake_failure(
    error: redis.RedisError,
    *,
    accepted: Sequence[str],
    attempted: Sequence[str],
    campaign: str | None = None,
) -> StoreError:
    """The error to raise when storing ``attempted`` failed after ``accepted`` were stored."""
    kind = type(error).__name__
    if write_may_be_applied(error):
        return StoreOutcomeUnknown(
            f"the store did not answer ({kind}): {len(attempted)} messages may or may not be stored; "
            "check their status, or send again with the same idempotency keys",
            accepted=accepted,
            unknown=attempted,
            campaign=campaign,
        )
    if isinstance(error, redis.exceptions.OutOfMemoryError):
        return StoreFull(
            f"the store is full (Redis maxmemory): {len(attempted)} messages not stored; retry later",
            accepted=accepted,
            campaign=campaign,
        )
    return StoreUnavailable(
        f"the store refused the write ({kind}): {len(attempted)} messages not stored; retry later",
        accepted=accepted,
        campaign=campaign,
    )


def call_clock(store: Store) -> float:
    """Redis' clock for an intake call, read before anything is stored: if Redis does not answer,
    the call fails with nothing stored."""
    try:
        return store.now()
    except redis.RedisError as exc:
        raise StoreUnavailable(
            f"the store did not answer ({type(exc).__name__}): nothing stored; retry later"
        ) from exc


def campaign_not_accepted(error: redis.RedisError, campaign: str) -> StoreError:
    """The error for a campaign whose intake failed before its commit: whatever reached Redis is
    held and never sent (it is discarded), so nothing of it was accepted."""
    full = isinstance(error, redis.exceptions.OutOfMemoryError)
    kind = StoreFull if full else StoreUnavailable
    why = "the store is full (Redis maxmemory)" if full else f"the store failed ({type(error).__name__})"
    return kind(
        f"campaign {campaign}: {why} before it was accepted: nothing of it is sent; retry later",
        campaign=campaign,
    )
