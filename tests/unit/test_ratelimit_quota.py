"""Limits -> quotas and request sizes: pure arithmetic."""

from __future__ import annotations

import pytest

from dispatcher.accounts import AccountLimits
from dispatcher.ratelimit.quota import MAX_WAIT_S, batch_limit, quota_for, request_burst, reserved_tokens


def limits(**fields: float) -> AccountLimits:
    return AccountLimits(**{"messages_per_s": 200, "requests_per_s": 20, "burst": 50, **fields})  # type: ignore[arg-type]


def test_a_50_msgs_per_s_account_never_sends_1000_at_once() -> None:
    assert batch_limit(limits(messages_per_s=50, burst=50), "bulk") <= 10


def test_requests_are_big_enough_that_the_requests_limit_does_not_cap_the_message_rate() -> None:
    # 1,000 msg/s through 2 requests/s needs 500 per request.
    assert batch_limit(limits(messages_per_s=1000, requests_per_s=2, burst=1000), "bulk") == 500


def test_a_bulk_request_never_needs_more_than_bulk_may_take_from_the_bucket() -> None:
    account = limits(messages_per_s=1000, requests_per_s=1, burst=100, transactional_reserve=0.2)
    assert batch_limit(account, "bulk") == 80
    assert batch_limit(account, "transactional") == 100


def test_a_saturated_bulk_lane_waits_for_its_next_request_less_than_the_short_wait() -> None:
    account = limits()
    quota = quota_for(account, "bulk")
    refill_s = batch_limit(account, "bulk") * quota.messages.interval_s + quota.messages.reserve_s
    assert refill_s <= MAX_WAIT_S


def test_only_bulk_leaves_the_reserve() -> None:
    account = limits(transactional_reserve=0.2, max_concurrent_requests=10)
    bulk, transactional = quota_for(account, "bulk"), quota_for(account, "transactional")
    assert bulk.messages.reserve_s == pytest.approx(10 / 200)
    assert bulk.lease_reserve == 2
    assert transactional.messages.reserve_s == transactional.requests.reserve_s == 0
    assert transactional.lease_reserve == 0


def test_a_reserve_always_leaves_bulk_at_least_one_token() -> None:
    assert reserved_tokens(1, 0.9) == 0
    assert reserved_tokens(10, 0.99) == 9


def test_the_requests_bucket_drains_as_fast_as_the_messages_bucket() -> None:
    assert request_burst(limits(messages_per_s=200, requests_per_s=20, burst=50)) == 5
    assert request_burst(limits(messages_per_s=2000, requests_per_s=1, burst=10)) == 1
