"""The dispatch task's side of the limiter, on the in-memory limiter: sleep briefly or hand back."""

from __future__ import annotations

from dataclasses import dataclass, field

from dispatcher.accounts import AccountLimits, RevicomAccount
from dispatcher.pipeline.throttle import admit, pause_account, worth_waiting
from dispatcher.ratelimit import MAX_WAIT_S, PAUSED, RATE, MemoryLimiter, Permit, quota_for

LIMITS = AccountLimits(messages_per_s=200, requests_per_s=20, burst=50, transactional_reserve=0.2)


@dataclass
class FakeRuntime:
    """What ``admit`` uses of a Runtime: the account, the limiter, a clock that sleeping advances."""

    account: RevicomAccount
    now: float = 1000.0
    slept: list[float] = field(default_factory=list)
    limiter: MemoryLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = MemoryLimiter(clock=lambda: self.now)

    def lane_account(self, lane: str) -> RevicomAccount:
        return self.account

    def reclaim_after_posting_s(self, account: object) -> float:
        return 5.0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def runtime(limits: AccountLimits | None = LIMITS) -> FakeRuntime:
    account = RevicomAccount(
        name="acct", provider="revicom", base_url="http://127.0.0.1:1/revicom", token_env="T", limits=limits
    )
    return FakeRuntime(account)


def test_an_account_without_limits_is_never_throttled() -> None:
    fake = runtime(limits=None)
    assert all(admit(fake, "acct:bulk", messages=1000).granted for _ in range(100))  # type: ignore[arg-type]
    assert fake.slept == []


def test_a_short_wait_is_slept_on_the_slot() -> None:
    fake = runtime()
    assert admit(fake, "acct:bulk", messages=40).granted  # type: ignore[arg-type]
    # 10 left = the reserve: 30 more need 30 refilled tokens, 0.15 s.
    assert admit(fake, "acct:bulk", messages=30).granted  # type: ignore[arg-type]
    assert sum(fake.slept) <= MAX_WAIT_S
    assert fake.slept


def test_a_long_wait_is_not_slept_but_handed_back() -> None:
    fake = runtime()
    pause_account(fake, "acct:bulk", "429 Too Many Requests", for_s=2.0)  # type: ignore[arg-type]
    permit = admit(fake, "acct:transactional", messages=1)  # type: ignore[arg-type]
    assert not permit.granted
    assert permit.reason == PAUSED
    assert 1.9 < permit.wait_s <= 2.0
    assert fake.slept == []
    usage = fake.limiter.usage("acct", quota_for(LIMITS, "bulk"))
    assert usage.handbacks == 1
    assert usage.paused == "429 Too Many Requests"


def test_waits_add_up_to_at_most_the_short_wait() -> None:
    assert worth_waiting(0.0, Permit(False, wait_s=MAX_WAIT_S, reason=RATE))
    assert not worth_waiting(0.2, Permit(False, wait_s=0.1, reason=RATE))


def test_voice_codes_pass_at_once_while_bulk_saturates_the_account() -> None:
    fake = runtime()
    for _ in range(50):
        admit(fake, "acct:bulk", messages=30)  # type: ignore[arg-type]
    fake.slept.clear()
    assert admit(fake, "acct:transactional", messages=1).granted  # type: ignore[arg-type]
    assert fake.slept == []
