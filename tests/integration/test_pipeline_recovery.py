"""The pipeline keeps every message through account errors, dead workers and a busy bulk lane."""

from __future__ import annotations

import base64
import time
from collections import Counter

import pytest
from click.testing import CliRunner

from dispatcher.cli.lanes import lanes
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from dispatcher.store.states import FINAL_STATES
from dispatcher.taskqueue import kick
from tests.integration.worker_fixtures import (
    PipelineProcesses,
    enqueue,
    numbers,
    revicom_sms,
    revicom_voice_code,
    wait_for,
)

pytestmark = pytest.mark.integration

SEND_PATH = "/revicom/api/v1/message"
BULK = "revicom:bulk"


def test_a_bad_token_pauses_the_lane_and_resume_sends_everything(
    store: Store, sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    enqueue(store, BULK, [revicom_sms(number) for number in numbers(30)], campaign="c1")
    wrong = base64.b64encode(b"nobody:wrong").decode()
    worker = pipeline.start_worker(env={"DISPATCHER_REVICOM_TOKEN": wrong})
    pipeline.start_beat()

    wait_for(lambda: store.lane_paused(BULK) is not None, timeout_s=15, what="the lane paused")
    time.sleep(1.5)  # beat ticks meanwhile: a paused lane must stay untouched
    counts = store.campaign_counts("c1")
    assert counts.get("queued") == 30, counts
    assert store.lane_depth(BULK) == 30
    listing = CliRunner().invoke(lanes, [], env=pipeline.env)
    assert "revicom:bulk" in listing.output
    assert "until resumed" in listing.output

    pipeline.stop(worker)
    pipeline.start_worker()
    result = CliRunner().invoke(lanes, ["resume", BULK], env=pipeline.env)
    assert result.exit_code == 0, result.output

    wait_for(
        lambda: store.campaign_counts("c1").get("submitted") == 30, timeout_s=15, what="sent after resume"
    )
    assert len(sim.messages(provider="revicom")) == 30


def test_a_worker_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(
    store: Store, sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    # Slow requests, so that the kill lands while batches are taken and posting.
    sim.add_fault(path=SEND_PATH, method="POST", kind="latency", seconds=0.4)
    destinations = numbers(6000)
    enqueue(store, BULK, [revicom_sms(number) for number in destinations], campaign="c1")
    worker = pipeline.start_worker()
    pipeline.start_beat()
    wait_for(lambda: len(sim.requests(path=SEND_PATH)) >= 2, timeout_s=15, what="the first requests")
    pipeline.kill(worker)
    pipeline.start_worker()

    took = wait_for(
        lambda: (
            sum(
                n for state, n in store.campaign_counts("c1").items() if state in FINAL_STATES | {"submitted"}
            )
            == 6000
        ),
        timeout_s=60,
        what="every message final",
    )

    assert store.campaign_counts("c1").get("submitted") == 6000
    created = Counter(message["destination"] for message in sim.messages(provider="revicom"))
    assert created == Counter(destinations), "a message was created twice or never"
    lookups = [request for request in sim.requests(path=SEND_PATH) if request["method"] == "GET"]
    assert lookups, "the kill left no batch posting: the test proves nothing"
    print(f"after the kill, all 6,000 settled in {took:.2f} s")


def test_a_voice_code_is_not_held_up_by_a_large_bulk_campaign(
    store: Store, sim: SimulatorClient, pipeline: PipelineProcesses
) -> None:
    sim.add_fault(path=SEND_PATH, method="POST", kind="latency", seconds=0.3)
    enqueue(store, BULK, [revicom_sms(number) for number in numbers(20_000)], campaign="bulk")
    pipeline.start_worker()
    assert kick(store, pipeline.tasks, BULK, pipeline.settings)
    wait_for(lambda: len(sim.requests(path=SEND_PATH)) >= 2, timeout_s=15, what="the campaign under way")

    enqueue(store, "revicom:transactional", [revicom_voice_code("79160000001")], campaign="code")
    started = time.monotonic()
    assert kick(store, pipeline.tasks, "revicom:transactional", pipeline.settings)
    code_s = wait_for(
        lambda: store.campaign_counts("code").get("submitted") == 1, timeout_s=30, what="the voice code"
    )
    campaign_left = store.lane_depth(BULK)
    wait_for(
        lambda: store.campaign_counts("bulk").get("submitted") == 20_000, timeout_s=60, what="the campaign"
    )
    campaign_s = time.monotonic() - started

    print(f"voice code submitted after {code_s:.2f} s; campaign ended {campaign_s:.2f} s after it was queued")
    assert campaign_left > 0, "the campaign had already drained: the test proves nothing"
    assert code_s < 2.0
    assert code_s < campaign_s / 2
