"""Global rate limits per provider account, shared by every worker on every machine (docs/architecture.md)."""

from dispatcher.ratelimit.limiter import CONCURRENCY, PAUSED, RATE, AccountUsage, Limiter, Permit
from dispatcher.ratelimit.memory import MemoryLimiter
from dispatcher.ratelimit.quota import MAX_WAIT_S, Quota, batch_limit, quota_for
from dispatcher.ratelimit.redis_limiter import RedisLimiter

__all__ = [
    "CONCURRENCY",
    "MAX_WAIT_S",
    "PAUSED",
    "RATE",
    "AccountUsage",
    "Limiter",
    "MemoryLimiter",
    "Permit",
    "Quota",
    "RedisLimiter",
    "batch_limit",
    "quota_for",
]
