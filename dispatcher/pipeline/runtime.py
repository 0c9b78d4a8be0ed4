"""Everything the pipeline's steps need in one worker process: settings, store, rate limiter,
adapters, a way to send tasks, the clock and the randomness (injectable, so the steps can be tested)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from dispatcher.accounts import Account, load_accounts
from dispatcher.pipeline.adapters import AdapterCache
from dispatcher.ratelimit import Limiter, RedisLimiter
from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.taskqueue import TaskSender, split_lane


@dataclass
class Runtime:
    settings: Settings
    store: Store
    limiter: Limiter
    adapters: AdapterCache
    tasks: TaskSender
    #: Names this process in batch records (``wk``), for whoever inspects a stuck batch.
    worker: str
    clock: Callable[[], float] = time.time
    random: Callable[[], float] = field(default=random.random)
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls, settings: Settings, *, tasks: TaskSender, worker: str) -> Runtime:
        return cls(
            settings=settings,
            store=Store.from_settings(settings),
            limiter=RedisLimiter(redis.Redis.from_url(str(settings.redis_url)), prefix=settings.key_prefix),
            adapters=AdapterCache(load_accounts(settings), settings),
            tasks=tasks,
            worker=worker,
        )

    def lane_account(self, lane: str) -> Account:
        return self.adapters.account(split_lane(lane)[0])

    def reclaim_after_posting_s(self, account: Account) -> float:
        """How long after a posting mark beat may reconcile the batch: the request's longest life
        (connect + read timeout) plus the grace."""
        connect_s = account.connect_timeout_s or self.settings.connect_timeout_s
        read_s = account.read_timeout_s or self.settings.read_timeout_s
        return connect_s + read_s + self.settings.reconcile_grace_s
