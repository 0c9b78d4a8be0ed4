"""Clocks that disagree, during a rate-limited campaign with slow provider requests and scheduled
sends: every time the processes compare is Redis', so nothing is created twice at the provider and
nothing scheduled leaves before its time by the real clock, whichever process's clock is off.

Two layouts:

- ``one_worker_behind`` -- as it was found: one worker 100 s behind, everything else right. Before,
  a right worker ran beat's tick, found the batches of the one behind past their reclaim deadline
  while their requests were still in flight, reconciled them (the provider had created nothing yet)
  and put them back: sent twice.
- ``behind_and_ahead`` -- one worker and beat 100 s behind, another worker and the producer 30 s
  ahead. Before, the producer took send times still to come for ones already passed and sent those
  messages early.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from dispatcher import Dispatcher, MessageTemplate
from dispatcher.accounts import Account
from dispatcher.models.revicom import RevicomSms
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from dispatcher.store.states import FINAL_STATES
from tests.chaos.scale import ChaosScale
from tests.clock_skew import INSTALL_HINT, libfaketime, skewed_env
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(libfaketime() is None, reason=INSTALL_HINT),
]

REVICOM_SEND = "/revicom/api/v1/message"
SCHEDULED_GROUPS = 6


@dataclass(frozen=True)
class Layout:
    """Clock offsets (s) of beat, each worker and the producer of the scheduled messages."""

    beat: int
    workers: tuple[int, ...]
    producer: int


LAYOUTS = {
    "one_worker_behind": Layout(beat=0, workers=(-100, 0), producer=0),
    "behind_and_ahead": Layout(beat=-100, workers=(-100, 30), producer=30),
}
#: Provider latency below the workers' 1.5 s read timeout: requests succeed, but are in flight long
#: enough for a tick with a clock ahead to act on them.
LATENCY_S = 0.8
TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Spring sale: 20% off today"})
#: The skewed producer: scheduled SMS, each group with its send time (real epoch s), ids out as JSON.
PRODUCER = """
import json, sys
from dispatcher import Dispatcher
from dispatcher.models.revicom import RevicomSms
groups = json.loads(sys.argv[1])
with Dispatcher.from_settings() as producer:
    ids = [
        producer.send_many(
            [RevicomSms(destination=n, sender_name="SHOP", text="Your table is ready") for n in numbers],
            send_at=at,
            priority="transactional",  # not queued behind the campaign: it would hide an early send
        )
        for at, numbers in groups
    ]
print(json.dumps(ids))
"""


def _clock(offset_s: int) -> dict[str, str]:
    return skewed_env(offset_s) if offset_s else {}


@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_skewed_clocks_send_nothing_twice_and_nothing_early(
    layout: str, store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    clocks = LAYOUTS[layout]
    scale = ChaosScale.from_environment()
    # Grows with the scale, up to what two workers send in the campaign's ~12 s.
    campaign_size = min(max(600, scale.messages // 2), 6000)
    scheduled_size = min(max(120, scale.messages // 8), 1200)
    rate = max(100, campaign_size // 12)  # the campaign lasts ~12 s: many ticks on each worker
    pipeline.use_limits("revicom", messages_per_s=rate, requests_per_s=max(10, rate // 20), burst=rate)
    sim.add_fault(path=REVICOM_SEND, method="POST", kind="latency", seconds=LATENCY_S, probability=0.7)
    workers = [pipeline.start_worker(env=_clock(offset)) for offset in clocks.workers]
    beat = pipeline.start_beat(env=_clock(clocks.beat))

    scheduled = numbers(scheduled_size, first=1_000_000)
    now = time.time()
    groups = [
        [now + 3 + 12 * index / SCHEDULED_GROUPS, scheduled[index::SCHEDULED_GROUPS]]
        for index in range(SCHEDULED_GROUPS)
    ]
    not_before = {number: at for at, group in groups for number in group}
    producer_run = subprocess.Popen(
        [sys.executable, "-c", PRODUCER, json.dumps(groups)],
        env={**pipeline.env, **_clock(clocks.producer)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks) as producer:
        campaign_id = producer.campaign(TEMPLATE, numbers(campaign_size))
    out, err = producer_run.communicate(timeout=60)
    assert producer_run.returncode == 0, err
    ids = [*store.campaign_message_ids(campaign_id), *(i for group in json.loads(out) for i in group)]

    def out_of_our_hands() -> bool:
        states = Counter(record.state if record else "lost" for record in map(store.get, ids))
        return set(states) <= FINAL_STATES | {"submitted"}

    wait_for(out_of_our_hands, timeout_s=120, what="every message sent")
    time.sleep(2 * LATENCY_S)  # a duplicate still in flight would land by now
    created = sim.messages(provider="revicom")
    twice = [number for number, count in Counter(m["destination"] for m in created).items() if count > 1]
    early = [
        f"{m['destination']} {not_before[m['destination']] - m['created_at']:.2f} s early"
        for m in created
        if m["destination"] in not_before and m["created_at"] < not_before[m["destination"]]
    ]
    print(
        json.dumps(
            {
                "messages": len(ids),
                "created": len(created),
                "twice": len(twice),
                "early": len(early),
                "reconcile_lookups": sum(r["method"] == "GET" for r in sim.requests(path=REVICOM_SEND)),
            }
        )
    )

    assert not twice, f"created twice at the provider: {twice[:10]}"
    assert not early, f"scheduled messages sent before their time: {early[:10]}"
    assert len(created) == len(ids)
    assert [process.poll() for process in (*workers, beat)] == [None, None, None], "a process exited"
    assert any(offset for offset in (*clocks.workers, clocks.beat, clocks.producer)), "no clock was off"
