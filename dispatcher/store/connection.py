"""The store's Redis client: timeouts and retries chosen so that a slow Redis slows callers down,
a restarting one is waited for briefly, and a write that may have been applied is never hidden.

redis-py retries a command after a connection error or a timeout, also one whose request may have
reached Redis. That is safe for the store: every script is idempotent for the same arguments (an
id already stored is not stored again, a batch acts only on ids still in it, a posting mark under
the same tag counts nothing twice), so a retry after a lost reply changes nothing twice. What is
left after the retries is reported by the caller as "outcome unknown", with the ids.
"""

from __future__ import annotations

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from dispatcher.settings import Settings

#: Retries after a connection error or timeout, backing off 50 ms .. 1 s (a Redis restart from its
#: append-only file takes about that long to answer again; longer outages are reported).
RETRIES = 3
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0


def store_client(settings: Settings) -> redis.Redis:
    """A client for the store and the rate limiter (bytes replies: wire items come back as stored)."""
    return redis.Redis.from_url(
        str(settings.redis_url),
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        retry=Retry(ExponentialWithJitterBackoff(base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S), RETRIES),
        health_check_interval=30,
    )
