"""Everything the pipeline's steps need in one worker process: settings, store, rate limiter,
adapters, a way to send tasks, a monotonic clock, sleep and randomness (injectable, so the steps can be
tested).

The process's own clock measures only its own intervals (a time slice, how long since the last lease
renewal): every time that other processes compare is Redis' (the store's scripts read it).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dispatcher.accounts import Account, load_accounts
from dispatcher.pipeline.adapters import AdapterCache
from dispatcher.ratelimit import Limiter, RedisLimiter
from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.store.connection import store_client
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
    #: Local intervals only; never compared with another process's times.
    monotonic: Callable[[], float] = time.monotonic
    random: Callable[[], float] = field(default=random.random)
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls, settings: Settings, *, tasks: TaskSender, worker: str) -> Runtime:
        return cls(
            settings=settings,
            store=Store.from_settings(settings),
            limiter=RedisLimiter(store_client(settings), prefix=settings.key_prefix),
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
