"""Beat's tick on a real store: a campaign its producer never released is discarded, a live one kept."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from dispatcher.accounts import Account
from dispatcher.pipeline.adapters import AdapterCache
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.tick import run_tick
from dispatcher.ratelimit import RedisLimiter
from dispatcher.settings import Settings
from dispatcher.store import Store

from .conftest import MessageFactory

pytestmark = pytest.mark.integration


class SentTasks:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.sent.append((name, kwargs))


def test_tick_discards_a_campaign_its_producer_never_released(
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    make_messages: MessageFactory,
) -> None:
    settings = Settings(key_prefix=key_prefix, held_campaign_timeout_s=60)
    runtime = Runtime(
        settings=settings,
        store=store,
        limiter=RedisLimiter(redis_client, prefix=key_prefix),
        adapters=AdapterCache(accounts, settings),
        tasks=SentTasks(),
        worker="test",
    )
    now = time.time()
    store.create_campaign("abandoned", account="revicom", lane="revicom:bulk", now=now - 120, held=True)
    abandoned = make_messages(1500, campaign="abandoned")
    store.add_messages(abandoned, now=now - 120, hold=True)
    store.create_campaign("checking", account="revicom", lane="revicom:bulk", now=now - 5, held=True)
    checking = make_messages(10, campaign="checking")
    store.add_messages(checking, now=now - 5, hold=True)

    report = run_tick(runtime)

    assert report is not None
    assert report.discarded == 1500
    assert store.get(abandoned[0].id) is None
    assert store.campaign_counts("abandoned")["total"] == 0
    assert store.get(checking[0].id) is not None
    assert store.held_campaigns(began_before=now) == ["checking"]
