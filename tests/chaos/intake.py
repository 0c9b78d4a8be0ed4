"""What the fault suite hands the producer: a campaign, scheduled SMS and RCS messages with an SMS
fallback before the rounds, and more of each kind while the faults land (``DuringRounds``), through
the same ``Dispatcher`` a backend uses. During the rounds Redis stalls, fills up, restarts and drops
connections under the producer's feet; it acts on each failure as a careful caller would, by what
the error says: ``accepted`` ids are kept, ``unknown`` ones are noted, and the call is retried with
the same idempotency keys (a campaign that was not accepted is retried under a new id).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from dispatcher import Dispatcher, MessageTemplate
from dispatcher.errors import StoreError, StoreOutcomeUnknown
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer.extras import SmsFallback
from tests.chaos.scale import ChaosScale
from tests.integration.test_fallback_rcs_sms import rcs
from tests.integration.test_schedule_send_at import sms
from tests.integration.worker_fixtures import numbers

SCHEDULED_GROUPS = 8
FALLBACK_DEADLINES_S = (2.0, 4.0, 8.0)
#: Each kind of message has numbers of its own, so a destination seen twice at a provider is a
#: message created twice (RCS numbers get at most their fallback SMS from Revicom).
CAMPAIGN_FIRST, SCHEDULED_FIRST, RCS_FIRST, DURING_FIRST = 0, 3_000_000, 6_000_000, 8_000_000
CAMPAIGN_TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Spring sale: 20% off today"})
#: How long a caller keeps retrying one call before the test calls it a failure.
RETRY_FOR_S = 120.0
RETRY_PAUSE_S = 0.2
T = TypeVar("T")


def patiently(read: Callable[[], T]) -> T:
    """``read()``, asked again while Redis does not answer (for RETRY_FOR_S at most)."""
    deadline = time.monotonic() + RETRY_FOR_S
    while True:
        try:
            return read()
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(RETRY_PAUSE_S)


class Intake:
    """What the producer accepted (ids by kind), when the scheduled ones may leave, and the ids a
    failed call named as maybe stored."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = {"campaign": [], "scheduled": [], "rcs": [], "during": []}
        self.not_before: dict[str, float] = {}  # destination -> send_at
        self.rcs_numbers: set[str] = set()
        self.campaign_ids: list[str] = []
        #: Ids an ``outcome unknown`` named: each is stored (then it must end final) or is not.
        self.unknown: list[str] = []
        #: Failures by kind of error: how often intake met a fault.
        self.failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def before_rounds(self, producer: Dispatcher, scale: ChaosScale, rng: random.Random) -> None:
        self._campaign(producer, numbers(scale.campaign, first=CAMPAIGN_FIRST), kind="campaign")
        scheduled = numbers(scale.scheduled, first=SCHEDULED_FIRST)
        for group in range(SCHEDULED_GROUPS):
            chunk = scheduled[group::SCHEDULED_GROUPS]
            # Spread over the rounds: releases happen while workers, beat and Redis die.
            at = time.time() + rng.uniform(2.0, scale.chaos_s)
            self.ids["scheduled"] += producer.send_many([sms(number) for number in chunk], send_at=at)
            self.not_before.update(dict.fromkeys(chunk, at))
        for number in numbers(scale.rcs, first=RCS_FIRST):
            send_at = time.time() + rng.uniform(1.0, scale.chaos_s) if rng.random() < 0.3 else None
            fallback = SmsFallback("Your code 1234", "SHOP", deadline_s=rng.choice(FALLBACK_DEADLINES_S))
            self.ids["rcs"].append(producer.send(rcs(number), fallback=fallback, send_at=send_at))
            self.rcs_numbers.add(number)
            if send_at is not None:
                self.not_before[number] = send_at

    def during_rounds(self, producer: Dispatcher, scale: ChaosScale, rng: random.Random) -> DuringRounds:
        """Start sending while the rounds run; ``stop()`` the result when they end."""
        return DuringRounds(self, producer, scale, rng)

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.ids.values())

    def _campaign(self, producer: Dispatcher, recipients: list[str], *, kind: str) -> None:
        """A campaign, sent again under a new id until one is accepted."""
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                campaign_id = producer.campaign(CAMPAIGN_TEMPLATE, recipients)
            except StoreError as error:
                self._count(error)
                if isinstance(error, StoreOutcomeUnknown) and self._accepted_after_all(producer, error):
                    campaign_id = str(error.campaign)
                elif time.monotonic() < deadline:
                    time.sleep(RETRY_PAUSE_S)
                    continue
                else:
                    raise
            ids = patiently(lambda chosen=campaign_id: list(producer.store.campaign_message_ids(chosen)))
            with self._lock:
                self.campaign_ids.append(campaign_id)
                self.ids[kind] += ids
            return

    def _accepted_after_all(self, producer: Dispatcher, error: StoreOutcomeUnknown) -> bool:
        """Whether a campaign whose commit went unanswered was accepted after all."""
        campaign = error.campaign
        assert campaign is not None
        return patiently(lambda: producer.campaign_accepted(campaign)) is True

    def _count(self, error: StoreError) -> None:
        with self._lock:
            self.failures[type(error).__name__] = self.failures.get(type(error).__name__, 0) + 1
            self.unknown += error.unknown


class DuringRounds:
    """A thread sending SMS in small groups (``send_many`` with idempotency keys, and single sends)
    and a small campaign now and then, until stopped."""

    def __init__(self, intake: Intake, producer: Dispatcher, scale: ChaosScale, rng: random.Random) -> None:
        self._intake = intake
        self._producer = producer
        self._rng = random.Random(rng.random())
        self._numbers = iter(numbers(max(200, scale.messages // 10), first=DURING_FIRST))
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="chaos-intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=RETRY_FOR_S + 30)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        group = 0
        try:
            while not self._stopping.is_set():
                size = self._rng.randint(5, 40)
                destinations = [number for _, number in zip(range(size), self._numbers, strict=False)]
                if not destinations:
                    return
                if group % 10 == 9:
                    self._intake._campaign(self._producer, destinations, kind="during")
                else:
                    keys = [f"during-{group}-{index}" for index in range(len(destinations))]
                    self._send(destinations, keys, single=group % 3 == 0)
                group += 1
                self._stopping.wait(self._rng.uniform(0.05, 0.3))
        except BaseException as exc:  # handed to the test by stop()
            self._error = exc

    def _send(self, destinations: list[str], keys: list[str], *, single: bool) -> None:
        """Send until every message is accepted: a retry with the same keys stores nothing twice."""
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                if single:
                    pairs = zip(destinations, keys, strict=True)
                    ids = [self._producer.send(sms(number), idempotency_key=key) for number, key in pairs]
                else:
                    ids = self._producer.send_many([sms(n) for n in destinations], idempotency_keys=keys)
            except StoreError as error:
                self._intake._count(error)
                if time.monotonic() > deadline:
                    raise
                time.sleep(RETRY_PAUSE_S)
                continue
            with self._intake._lock:
                self._intake.ids["during"] += ids
            return
