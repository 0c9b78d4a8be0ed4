"""The limiter's rules, checked on both implementations: the Redis script (one atomic call per
decision) and the in-memory stand-in the unit tests use. A controllable clock drives both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from dispatcher.accounts import AccountLimits
from dispatcher.ratelimit import CONCURRENCY, PAUSED, RATE, Limiter, MemoryLimiter, RedisLimiter, quota_for

pytestmark = pytest.mark.integration

LIMITS = AccountLimits(messages_per_s=200, requests_per_s=20, burst=50, transactional_reserve=0.2)
BULK = quota_for(LIMITS, "bulk")
TRANSACTIONAL = quota_for(LIMITS, "transactional")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["redis", "memory"])
def limiter(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Limiter]:
    if request.param == "memory":
        yield MemoryLimiter(clock=clock)
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    yield RedisLimiter(client, prefix=request.getfixturevalue("key_prefix"), clock=clock)


def granted(limiter: Limiter, *, messages: int, quota: object = BULK) -> bool:
    return limiter.acquire("acct", quota, messages=messages, lease_s=5).granted  # type: ignore[arg-type]


def test_a_full_bucket_grants_what_bulk_may_take_then_says_when_more_fits(limiter: Limiter) -> None:
    assert granted(limiter, messages=40)
    permit = limiter.acquire("acct", BULK, messages=10, lease_s=5)
    assert not permit.granted
    assert permit.reason == RATE
    assert permit.wait_s == pytest.approx(10 / 200, abs=1e-5)


def test_the_reserve_is_left_for_transactional_traffic(limiter: Limiter) -> None:
    assert granted(limiter, messages=40)
    assert not granted(limiter, messages=1)
    assert granted(limiter, messages=10, quota=TRANSACTIONAL)
    assert not granted(limiter, messages=1, quota=TRANSACTIONAL)


def test_no_window_grants_more_than_the_rate_plus_the_burst(limiter: Limiter, clock: Clock) -> None:
    grants: list[tuple[float, int]] = []
    started = clock.now
    while clock.now < started + 5:
        permit = limiter.acquire("acct", BULK, messages=30, lease_s=5)
        if permit.granted:
            grants.append((clock.now, 30))
        else:
            clock.now += permit.wait_s
    for start, _ in grants:
        in_window = sum(count for at, count in grants if start <= at <= start + 1)
        assert in_window <= 200 + 50
    steady = sum(count for at, count in grants[1:]) / (grants[-1][0] - grants[0][0])
    assert steady == pytest.approx(200, rel=0.05)


def test_the_requests_limit_holds_for_small_requests(limiter: Limiter, clock: Clock) -> None:
    # 5 requests at once (the requests bucket), then one per 1/20 s, however few messages each.
    assert sum(granted(limiter, messages=1, quota=TRANSACTIONAL) for _ in range(10)) == 5
    permit = limiter.acquire("acct", TRANSACTIONAL, messages=1, lease_s=5)
    assert permit.wait_s == pytest.approx(1 / 20, abs=1e-5)


def test_concurrent_requests_are_capped_by_leases(limiter: Limiter) -> None:
    quota = quota_for(
        AccountLimits(messages_per_s=1000, requests_per_s=1000, burst=1000, max_concurrent_requests=2),
        "transactional",
    )
    first = limiter.acquire("acct", quota, messages=1, lease_s=5)
    second = limiter.acquire("acct", quota, messages=1, lease_s=5)
    third = limiter.acquire("acct", quota, messages=1, lease_s=5)
    assert first.granted
    assert second.granted
    assert not third.granted
    assert third.reason == CONCURRENCY
    assert first.lease is not None
    limiter.release("acct", first.lease)
    assert limiter.acquire("acct", quota, messages=1, lease_s=5).granted


def test_a_lease_of_a_lost_request_expires(limiter: Limiter, clock: Clock) -> None:
    quota = quota_for(
        AccountLimits(messages_per_s=1000, requests_per_s=1000, burst=1000, max_concurrent_requests=1),
        "transactional",
    )
    assert limiter.acquire("acct", quota, messages=1, lease_s=5).granted
    assert not limiter.acquire("acct", quota, messages=1, lease_s=5).granted
    clock.now += 5.01
    assert limiter.acquire("acct", quota, messages=1, lease_s=5).granted


def test_a_pause_refuses_every_class_until_it_ends(limiter: Limiter) -> None:
    limiter.pause("acct", "429 Too Many Requests", for_s=2)
    for quota in (BULK, TRANSACTIONAL):
        permit = limiter.acquire("acct", quota, messages=1, lease_s=5)
        assert not permit.granted
        assert permit.reason == PAUSED
        assert 1.5 < permit.wait_s <= 2.0
    assert limiter.acquire("other", BULK, messages=1, lease_s=5).granted


def test_usage_shows_the_bucket_the_last_second_and_the_waits(limiter: Limiter, clock: Clock) -> None:
    assert granted(limiter, messages=40)
    limiter.record_wait("acct", waited_s=0.2, handed_back=False)
    limiter.record_wait("acct", waited_s=0.0, handed_back=True)
    assert not granted(limiter, messages=40)
    usage = limiter.usage("acct", BULK)
    assert usage.messages_used == pytest.approx(40 / 50)
    assert usage.granted_messages == 40
    assert usage.granted_requests == 1
    assert usage.denials == 1
    assert usage.waited_s == pytest.approx(0.2)
    assert usage.handbacks == 1
    clock.now += 1
    assert limiter.usage("acct", BULK).last_second_messages == 40


def test_redis_decisions_use_the_server_clock_by_default(redis_client: redis.Redis, key_prefix: str) -> None:
    limiter = RedisLimiter(redis_client, prefix=key_prefix)
    assert limiter.acquire("acct", BULK, messages=40, lease_s=5).granted
    permit = limiter.acquire("acct", BULK, messages=40, lease_s=5)
    assert not permit.granted
    assert 0.15 < permit.wait_s <= 0.2
    assert all(key.startswith(f"{{{key_prefix}}}:rl:acct:") for key in limiter.keys("acct"))
