"""The broker configuration and the worker-side guard of the Redis transport (pure: no broker)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import redis

from dispatcher.broker import (
    GUARDED_TRANSPORT,
    GuardedChannel,
    GuardedRedisTransport,
    broker_config,
    visibility_timeout_s,
)
from dispatcher.settings import Settings


def test_a_collected_connection_is_reported_as_gone_not_as_an_attribute_error() -> None:
    # celery 5.7.0 closes the default channel again after connection.collect() cleared the
    # transport's client; kombu then read conninfo.hostname of None (AttributeError: the worker died).
    collected = SimpleNamespace(connection=SimpleNamespace(client=None))

    with pytest.raises(redis.exceptions.ConnectionError, match="already collected"):
        GuardedChannel._connparams(collected)  # type: ignore[arg-type]


def test_a_full_redis_counts_as_a_connection_error_so_the_worker_reconnects() -> None:
    assert redis.exceptions.OutOfMemoryError in GuardedRedisTransport.connection_errors
    assert redis.exceptions.ConnectionError in GuardedRedisTransport.connection_errors
    assert GuardedRedisTransport.Channel is GuardedChannel


def test_the_store_redis_is_the_broker_by_default_with_redis_only_options() -> None:
    settings = Settings(redis_url="redis://store:6379/0", key_prefix="prod")  # type: ignore[arg-type]

    config = broker_config(settings)

    assert config["broker_url"] == "redis://store:6379/0"
    assert config["broker_transport"] == GUARDED_TRANSPORT
    assert config["broker_transport_options"] == {
        "global_keyprefix": "{prod}:celery:",
        "visibility_timeout": visibility_timeout_s(settings),
    }


def test_a_rabbitmq_broker_gets_publisher_confirms_and_no_redis_options() -> None:
    settings = Settings(broker_url="amqp://user:secret@rabbit:5672/prod")

    config = broker_config(settings)

    assert config["broker_url"] == "amqp://user:secret@rabbit:5672/prod"
    assert "broker_transport" not in config
    assert config["broker_transport_options"] == {"confirm_publish": True}


def test_a_second_redis_as_broker_is_guarded_too() -> None:
    config = broker_config(Settings(broker_url="rediss://broker:6380/1"))

    assert config["broker_url"] == "rediss://broker:6380/1"
    assert config["broker_transport"] == GUARDED_TRANSPORT


@pytest.mark.parametrize("url", ["kafka://broker:9092", "broker:5672", "amqp://"])
def test_a_broker_url_of_another_kind_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="broker_url"):
        Settings(broker_url=url)
