"""What an intake call's Redis error says (pure): stored, maybe stored, or not."""

from __future__ import annotations

import pytest
import redis

from dispatcher.errors import StoreFull, StoreOutcomeUnknown, StoreUnavailable
from dispatcher.producer.store_errors import campaign_not_accepted, intake_failure, write_may_be_applied

MAY_BE_APPLIED = [
    redis.ConnectionError("Connection closed by server."),
    redis.TimeoutError("Timeout reading"),
]
NOT_APPLIED = [
    redis.exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'"),
    redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
    redis.exceptions.AuthenticationError("invalid password"),
    redis.exceptions.ReadOnlyError("You can't write against a read only replica."),
    redis.ResponseError("BUSY Redis is busy running a script"),
]


@pytest.mark.parametrize("error", MAY_BE_APPLIED, ids=type)
def test_a_broken_or_timed_out_write_is_unknown_with_its_ids(error: redis.RedisError) -> None:
    assert write_may_be_applied(error)

    failure = intake_failure(error, accepted=["a1", "a2"], attempted=["b1", "b2"])

    assert isinstance(failure, StoreOutcomeUnknown)
    assert (failure.accepted, failure.unknown) == (("a1", "a2"), ("b1", "b2"))
    assert "may or may not be stored" in str(failure)


@pytest.mark.parametrize("error", NOT_APPLIED, ids=type)
def test_a_refused_write_stored_nothing_but_the_accepted_ids(error: redis.RedisError) -> None:
    assert not write_may_be_applied(error)

    failure = intake_failure(error, accepted=["a1"], attempted=["b1"])

    assert isinstance(failure, StoreUnavailable)
    assert (failure.accepted, failure.unknown) == (("a1",), ())


def test_a_full_redis_is_its_own_kind() -> None:
    failure = intake_failure(redis.exceptions.OutOfMemoryError("OOM"), accepted=[], attempted=["b1"])

    assert isinstance(failure, StoreFull)
    assert "full" in str(failure)


@pytest.mark.parametrize("error", [*MAY_BE_APPLIED, *NOT_APPLIED], ids=type)
def test_a_campaign_failing_before_its_commit_is_never_unknown(error: redis.RedisError) -> None:
    # Nothing of an uncommitted campaign is ever sent: whatever reached Redis is discarded.
    failure = campaign_not_accepted(error, "spring-sale")

    assert isinstance(failure, StoreUnavailable)
    assert failure.campaign == "spring-sale"
    assert failure.unknown == failure.accepted == ()
    assert "nothing of it is sent" in str(failure)
