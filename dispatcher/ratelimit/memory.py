"""The limiter's rules in one process, with an injectable clock: a stand-in for ``RedisLimiter`` in
unit tests of the pipeline's decisions (the Redis script is tested against the same cases)."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable

from dispatcher.ratelimit.limiter import CONCURRENCY, PAUSED, RATE, AccountUsage, Permit
from dispatcher.ratelimit.quota import Bucket, Quota

#: As in acquire.lua: with every lease taken, look again this soon.
LEASE_POLL_S = 0.05


def fit(tat: float | None, cost: int, bucket: Bucket, *, now: float) -> tuple[float, float]:
    """GCRA: (seconds until ``cost`` tokens may be taken leaving the reserve, <= 0 when now;
    the bucket's arrival time after taking them)."""
    new_tat = max(now if tat is None else tat, now) + cost * bucket.interval_s
    return new_tat - (now + bucket.tolerance_s - bucket.reserve_s), new_tat


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tats: dict[tuple[str, str], float] = {}
        self._leases: dict[str, dict[str, float]] = {}
        self._pauses: dict[str, tuple[str, float]] = {}
        self._stats: dict[str, Counter[str]] = {}
        self._waited_s: dict[str, float] = defaultdict(float)

    def acquire(self, account: str, quota: Quota, *, messages: int, lease_s: float) -> Permit:
        with self._lock:
            now = self._clock()
            stats = self._stats.setdefault(account, Counter())
            msg_tat = self._tats.get((account, "msgs"))
            used = _used(msg_tat, now, quota.messages.tolerance_s)
            _, until = self._pauses.get(account, ("", now))
            if until > now:
                stats["denials"] += 1
                return Permit(False, wait_s=until - now, reason=PAUSED, messages_used=used)
            msg_wait, msg_new = fit(msg_tat, messages, quota.messages, now=now)
            req_wait, req_new = fit(self._tats.get((account, "reqs")), 1, quota.requests, now=now)
            if max(msg_wait, req_wait) > 1e-6:
                stats["denials"] += 1
                return Permit(False, wait_s=max(msg_wait, req_wait), reason=RATE, messages_used=used)
            lease = None
            if quota.max_leases:
                leases = self._leases.setdefault(account, {})
                for token in [token for token, expiry in leases.items() if expiry <= now]:
                    del leases[token]
                if len(leases) >= quota.max_leases - quota.lease_reserve:
                    stats["denials"] += 1
                    wait_s = min(min(leases.values(), default=now + LEASE_POLL_S) - now, LEASE_POLL_S)
                    return Permit(False, wait_s=wait_s, reason=CONCURRENCY, messages_used=used)
                lease = secrets.token_hex(8)
                leases[lease] = now + lease_s
            self._tats[(account, "msgs")] = msg_new
            self._tats[(account, "reqs")] = req_new
            stats["granted_messages"] += messages
            stats["granted_requests"] += 1
            stats[f"second:{math.floor(now)}"] += messages
            return Permit(True, lease=lease, messages_used=_used(msg_new, now, quota.messages.tolerance_s))

    def release(self, account: str, lease: str) -> None:
        with self._lock:
            self._leases.get(account, {}).pop(lease, None)

    def pause(self, account: str, reason: str, *, for_s: float) -> None:
        with self._lock:
            self._pauses[account] = (reason, self._clock() + for_s)

    def record_wait(self, account: str, *, waited_s: float, handed_back: bool) -> None:
        with self._lock:
            self._waited_s[account] += waited_s
            self._stats.setdefault(account, Counter())["handbacks"] += handed_back

    def usage(self, account: str, quota: Quota) -> AccountUsage:
        with self._lock:
            now = self._clock()
            stats = self._stats.get(account, Counter())
            reason, until = self._pauses.get(account, ("", now))
            return AccountUsage(
                account=account,
                messages_used=_used(self._tats.get((account, "msgs")), now, quota.messages.tolerance_s),
                requests_used=_used(self._tats.get((account, "reqs")), now, quota.requests.tolerance_s),
                leases=sum(1 for expiry in self._leases.get(account, {}).values() if expiry > now),
                paused=reason if until > now else None,
                paused_for_s=until - now if until > now else None,
                last_second_messages=stats[f"second:{math.floor(now) - 1}"],
                granted_messages=stats["granted_messages"],
                granted_requests=stats["granted_requests"],
                denials=stats["denials"],
                waited_s=self._waited_s[account],
                handbacks=stats["handbacks"],
            )


def _used(tat: float | None, now: float, tolerance_s: float) -> float:
    return 0.0 if tat is None else min(1.0, max(0.0, tat - now) / tolerance_s)
