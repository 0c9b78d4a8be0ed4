"""Fixtures of the fault suite: a private Redis that can be killed and restarted without losing an
acknowledged write, and the integration fixtures (store, pipeline processes, callback API) pointed at it.

The suite never touches the shared Redis at 127.0.0.1:6379: ``redis_url`` here is the private
server's, so ``store``, ``pipeline_env`` and every worker and beat started by ``pipeline`` use it as
both message store and Celery broker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.api_fixtures import api, api_port, pipeline_env
from tests.integration.conftest import key_prefix, redis_client, store
from tests.redis_servers import RestartableRedis

__all__ = ["api", "api_port", "key_prefix", "pipeline_env", "redis_client", "store"]  # fixtures by name


@pytest.fixture
def chaos_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def redis_url(chaos_redis: RestartableRedis) -> str:
    """Overrides the integration suite's shared Redis with this test's private, restartable one."""
    return chaos_redis.url
