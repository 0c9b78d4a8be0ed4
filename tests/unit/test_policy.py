"""The pipeline's pure decisions: error -> action, backoff, retry limits, request sizes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dispatcher.accounts import BsgAccount, RevicomAccount, SmartswitchAccount
from dispatcher.errors import (
    BadCredentials,
    BatchRejected,
    ConnectFailed,
    ProviderUnavailable,
    RateLimited,
    ResponseTimedOut,
    UnexpectedResponse,
)
from dispatcher.pipeline.policy import (
    Action,
    backoff_s,
    decide,
    halves,
    plan_retries,
    revicom_fitting,
    take_size,
)
from dispatcher.providers.revicom_wire import MAX_REQUEST_BODY_BYTES


@dataclass(frozen=True)
class Item:
    id: str
    attempts: int
    deadline: float


@pytest.mark.parametrize(
    ("error", "size", "action"),
    [
        (ConnectFailed("x"), 10, Action.RETRY),
        (ProviderUnavailable("503"), 10, Action.RETRY),
        (RateLimited("429", retry_after_s=3), 10, Action.PAUSE_LANE),
        (BadCredentials("4012", code="4012"), 10, Action.PAUSE_LANE),
        (BatchRejected("4220", code="4220", reason="Invalid msisdn"), 10, Action.SPLIT),
        (BatchRejected("4220", code="4220", reason="Invalid msisdn"), 1, Action.REJECT),
        (ResponseTimedOut("read"), 10, Action.RECONCILE),
        (UnexpectedResponse("500"), 10, Action.RECONCILE),
    ],
)
def test_the_error_type_decides_the_action(error: Exception, size: int, action: Action) -> None:
    assert decide(error, request_size=size).action is action  # type: ignore[arg-type]


def test_a_429_pauses_for_its_retry_after_and_an_account_error_until_resumed() -> None:
    assert decide(RateLimited("429", retry_after_s=3), request_size=5).wait_s == 3
    assert decide(RateLimited("429", retry_after_s=None), request_size=5).wait_s == 1.0
    assert decide(BadCredentials("4012"), request_size=5).wait_s is None


def test_backoff_is_full_jitter_over_a_capped_exponential() -> None:
    assert [backoff_s(n, base_s=1, cap_s=10, random=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 10]
    assert backoff_s(3, base_s=1, cap_s=10, random=lambda: 0.25) == 1.0
    assert backoff_s(500, base_s=1, cap_s=300, random=lambda: 1.0) == 300


def test_retries_stop_at_the_attempt_limit_and_the_deadline() -> None:
    items = [Item("fresh", 0, 1000.0), Item("tired", 5, 1000.0), Item("late", 0, 100.5)]
    plan = plan_retries(
        items, now=100.0, max_attempts=6, base_s=1, cap_s=10, at_least_s=None, random=lambda: 1.0
    )
    assert plan.waits == [("fresh", 1.0)]
    assert plan.failed == ["tired", "late"]


def test_a_retry_waits_at_least_the_providers_hint() -> None:
    plan = plan_retries(
        [Item("a", 0, 1000.0)], now=0.0, max_attempts=6, base_s=1, cap_s=10, at_least_s=7, random=lambda: 0.5
    )
    assert plan.waits == [("a", 7.0)]


def test_request_sizes_per_provider() -> None:
    revicom = RevicomAccount(name="r", provider="revicom", base_url="http://x", token_env="T")
    bsg = BsgAccount(name="b", provider="bsg", base_url="http://x", api_key_env="K")
    smartswitch = SmartswitchAccount(
        name="s",
        provider="smartswitch",
        base_url="http://x",
        login_env="L",
        password_env="P",
        max_url_bytes=8192,
    )
    assert take_size(revicom) == 1000
    assert take_size(bsg) == 1
    assert 100 < take_size(smartswitch) < 200


def test_revicom_requests_stop_at_1000_items_or_the_body_cap() -> None:
    assert revicom_fitting([100] * 2500, tag="t") == 1000
    assert revicom_fitting([100] * 10, tag="t") == 10
    big = MAX_REQUEST_BODY_BYTES // 4
    assert revicom_fitting([big] * 10, tag="t") == 3
    assert revicom_fitting([MAX_REQUEST_BODY_BYTES * 2], tag="t") == 1


def test_halves_split_a_batch_for_bisection() -> None:
    assert halves([1, 2, 3, 4, 5]) == ([1, 2], [3, 4, 5])
