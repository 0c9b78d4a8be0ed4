"""The limiter on Redis: one atomic script call per decision (``acquire.lua``), shared by every
worker on every machine. Keys: ``{P}:rl:<account>:<part>`` (docs/pipeline.md §2 and §5)."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from pathlib import Path

import redis

from dispatcher.ratelimit.limiter import AccountUsage, Permit
from dispatcher.ratelimit.quota import Quota

_SCRIPT = Path(__file__).with_name("acquire.lua").read_text(encoding="utf-8")
_PARTS = ("msgs", "reqs", "leases", "pause", "stats")


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RedisLimiter:
    def __init__(self, client: redis.Redis, *, prefix: str, clock: Callable[[], float] | None = None) -> None:
        """``clock``: only for tests; by default every decision uses the Redis server's clock, so
        machines whose clocks disagree still share one schedule."""
        self._client = client
        self._root = f"{{{prefix}}}:rl:"
        self._clock = clock
        self._acquire = client.register_script(_SCRIPT)

    def keys(self, account: str) -> list[str]:
        return [f"{self._root}{account}:{part}" for part in _PARTS]

    def acquire(self, account: str, quota: Quota, *, messages: int, lease_s: float) -> Permit:
        lease = secrets.token_hex(8) if quota.max_leases else ""
        granted, wait_us, reason, used_ppm = self._acquire(
            keys=self.keys(account),
            args=[
                "" if self._clock is None else repr(self._clock()),
                messages,
                *(repr(value) for value in _bucket_args(quota)),
                quota.max_leases,
                quota.lease_reserve,
                repr(lease_s),
                lease,
            ],
        )
        if granted:
            return Permit(True, lease=lease or None, messages_used=used_ppm / 1e6)
        return Permit(False, wait_s=wait_us / 1e6, reason=_text(reason) or "", messages_used=used_ppm / 1e6)

    def release(self, account: str, lease: str) -> None:
        self._client.zrem(self.keys(account)[2], lease)

    def pause(self, account: str, reason: str, *, for_s: float) -> None:
        self._client.set(self.keys(account)[3], reason, px=max(1, math.ceil(for_s * 1000)))

    def record_wait(self, account: str, *, waited_s: float, handed_back: bool) -> None:
        stats = self.keys(account)[4]
        pipe = self._client.pipeline(transaction=False)
        if waited_s > 0:
            pipe.hincrbyfloat(stats, "ws", waited_s)
        if handed_back:
            pipe.hincrby(stats, "hb", 1)
        pipe.execute()

    def usage(self, account: str, quota: Quota) -> AccountUsage:
        msgs, reqs, leases, pause, stats = self.keys(account)
        pipe = self._client.pipeline(transaction=False)
        pipe.time()
        pipe.get(msgs)
        pipe.get(reqs)
        pipe.zrange(leases, 0, -1, withscores=True)
        pipe.get(pause)
        pipe.pttl(pause)
        pipe.hgetall(stats)
        (seconds, micros), msg_tat, req_tat, lease_rows, reason, pause_ms, raw = pipe.execute()
        now = self._clock() if self._clock is not None else seconds + micros / 1e6
        counters = {_text(name): _text(value) for name, value in raw.items()}
        return AccountUsage(
            account=account,
            messages_used=_used(msg_tat, now, quota.messages.tolerance_s),
            requests_used=_used(req_tat, now, quota.requests.tolerance_s),
            leases=sum(1 for _, expiry in lease_rows if expiry > now),
            paused=_text(reason),
            paused_for_s=pause_ms / 1000 if reason is not None and pause_ms >= 0 else None,
            last_second_messages=_last_second(counters, now),
            granted_messages=int(counters.get("gm") or 0),
            granted_requests=int(counters.get("gr") or 0),
            denials=int(counters.get("dn") or 0),
            waited_s=float(counters.get("ws") or 0),
            handbacks=int(counters.get("hb") or 0),
        )


def _bucket_args(quota: Quota) -> tuple[float, ...]:
    m, r = quota.messages, quota.requests
    return (m.interval_s, m.tolerance_s, m.reserve_s, r.interval_s, r.tolerance_s, r.reserve_s)


def _used(tat: bytes | None, now: float, tolerance_s: float) -> float:
    return 0.0 if tat is None else min(1.0, max(0.0, float(tat) - now) / tolerance_s)


def _last_second(counters: dict[str | None, str | None], now: float) -> int:
    """Messages granted in the last whole second, from the script's current/previous counters."""
    counted = int(counters.get("sec") or 0)
    second = math.floor(now)
    if counted == second:
        return int(counters.get("pm") or 0)
    if counted == second - 1:
        return int(counters.get("sm") or 0)
    return 0
