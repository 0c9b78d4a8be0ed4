"""The Celery broker: where tasks go (``Settings.broker_url``, by default the store's Redis), with the
options each kind of broker takes, and the Redis transport the workers need to survive a Redis
restart or a full Redis.

Why a transport of our own (two small changes to kombu's Redis transport, nothing else):

- **celery 5.7.0 regression.** After a broker connection error, celery 5.7.0's consumer calls
  ``connection.collect()``, which clears the transport's client, and then closes the connection's
  default channel a second time (celery PR #10242, "fix: prevent graceful shutdown regression in
  connection recovery (GH-9705)", commit feb789acc; in no 5.6.x release). That close restores the
  unacknowledged messages, which builds a Redis connection pool from ``conninfo`` -- now ``None``
  -- and raises ``AttributeError: 'NoneType' object has no attribute 'hostname'``. Nothing catches
  it: "Unrecoverable error", and the worker exits. It needs late-ack tasks in hand while a BRPOP is
  pending, which is every busy dispatcher worker. ``GuardedChannel`` says what is true instead: the
  connection is gone (a redis ``ConnectionError``, which every close path ignores). The messages
  stay in Redis' unacked set and are delivered again after the visibility timeout. Remove the guard
  once celery fixes the regression (docs/operations.md, "Workers and Redis restarts").
- **Redis at maxmemory.** kombu records each message it hands out in Redis (the unacked set); at
  maxmemory that write fails with ``OutOfMemoryError``, which kombu does not count as a connection
  error, so the worker exits (and a restarted one exits at its first queue declaration). Counted as
  one, the worker reconnects with Celery's backoff and goes on once memory is free. A message lost
  this way is a dispatch, tick or reconcile task: beat sends its like again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
from kombu.transport import redis as kombu_redis

from dispatcher.settings import Settings

#: Broker URL schemes: the Redis ones (guarded transport, Redis-only options) and RabbitMQ's.
REDIS_SCHEMES = frozenset({"redis", "rediss"})
AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
GUARDED_TRANSPORT = "dispatcher.broker:GuardedRedisTransport"
#: Slack on top of the longest a task may hold its broker message (slice + one HTTP request).
VISIBILITY_MARGIN_S = 60.0


class GuardedChannel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            # The connection was collected (celery 5.7.0, see the module docstring): there is no
            # broker to build a pool for.
            raise redis.exceptions.ConnectionError("the broker connection was already collected")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[no-untyped-call]
        return params


class GuardedRedisTransport(kombu_redis.Transport):
    Channel = GuardedChannel
    connection_errors = (*kombu_redis.Transport.connection_errors, redis.exceptions.OutOfMemoryError)


def broker_url(settings: Settings) -> str:
    """Where tasks go: ``broker_url``, else the store's Redis."""
    return settings.broker_url or str(settings.redis_url)


def is_redis_broker(url: str) -> bool:
    return urlsplit(url).scheme in REDIS_SCHEMES


def visibility_timeout_s(settings: Settings) -> float:
    """How long a Redis broker waits for an unacknowledged task before giving it to another worker.

    Above the longest a dispatch task runs (its slice, then at most one more request), so a slow
    task is never handed out twice while it still runs. (RabbitMQ needs none: it gives a task back
    when its worker's connection closes.)
    """
    return (
        settings.dispatch_slice_s + settings.connect_timeout_s + settings.read_timeout_s + VISIBILITY_MARGIN_S
    )


def broker_config(settings: Settings) -> dict[str, Any]:
    """The broker part of the Celery configuration."""
    url = broker_url(settings)
    config: dict[str, Any] = {"broker_url": url, "broker_connection_retry_on_startup": True}
    if is_redis_broker(url):
        config["broker_transport"] = GUARDED_TRANSPORT
        config["broker_transport_options"] = {
            # Every Celery key of this deployment under its prefix: tests and deployments may share
            # one Redis without seeing each other's tasks.
            "global_keyprefix": f"{{{settings.key_prefix}}}:celery:",
            "visibility_timeout": visibility_timeout_s(settings),
        }
    else:
        # Publisher confirms: a task the broker did not take raises in send_task, so a kick that
        # reports success was queued (a refused one is logged and left to beat).
        config["broker_transport_options"] = {"confirm_publish": True}
    return config
