"""Voice-code latency while a large campaign drains through the same workers, against no campaign.

The stack of ``dispatcher dev`` (one transactional and one bulk worker, beat, the simulator as the
provider) on a private ``redis-server``. The latency of a voice code is from just before
``Dispatcher.send`` of a VOICECODE to the time its ``submitted`` transition carries in the
message's history (the provider accepted it). Prints one JSON object:

- ``idle_p50_ms`` / ``idle_p99_ms``: ``--codes`` voice codes, one every ``--interval-ms``, nothing
  else running (the baseline);
- ``loaded_p50_ms`` / ``loaded_p99_ms``: the same while a ``--messages`` SMS campaign drains: the
  codes are sent from the campaign's release until it is all submitted; when the drain ends before
  ``--codes`` were sent, another campaign of the same size runs (``rounds``);
- ``loaded_vs_idle_p99``; ``campaign_drain_msgs_per_s``: the campaigns' rate while codes were sent.

    .venv/bin/python bench/transactional_latency.py [--codes 200] [--messages 200000] [--interval-ms 15]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis
from support import emit, percentile

from dispatcher.localredis import start_private_redis
from dispatcher.localstack import delete_keys, demo_credentials, pipeline_children, running
from dispatcher.models.revicom import RevicomSms, RevicomVoiceCode
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.settings import Settings
from dispatcher.simulator.process import running_simulator
from dispatcher.store.states import SUBMITTED
from dispatcher.taskqueue import BULK_QUEUE, TRANSACTIONAL_QUEUE

WAIT_LIMIT_S = 300.0


class Codes:
    """Voice codes to distinct numbers (never one of the campaign's)."""

    def __init__(self) -> None:
        self.serial = 0

    def send(self, dispatcher: Dispatcher) -> tuple[str, float]:
        self.serial += 1
        code = RevicomVoiceCode.from_code(
            destination=f"7925{self.serial:07d}", brand="bench", code=f"{self.serial % 10000:04d}"
        )
        sent_at = time.time()
        return dispatcher.send(code), sent_at


def send_spread(
    dispatcher: Dispatcher, codes: Codes, count: int, interval_s: float, go_on: Callable[[], bool]
) -> list[tuple[str, float]]:
    """Up to ``count`` codes, one every ``interval_s``, while ``go_on()``."""
    sent: list[tuple[str, float]] = []
    next_at = time.perf_counter()
    while len(sent) < count and go_on():
        sent.append(codes.send(dispatcher))
        next_at += interval_s
        time.sleep(max(next_at - time.perf_counter(), 0))
    return sent


def latencies_ms(dispatcher: Dispatcher, sent: list[tuple[str, float]]) -> list[float]:
    """Send -> ``submitted`` per code, once all are submitted (the time comes from the history)."""
    found: list[float] = []
    waiting = list(sent)
    deadline = time.monotonic() + WAIT_LIMIT_S
    while waiting:
        still = []
        for message_id, sent_at in waiting:
            status = dispatcher.status(message_id)
            at = (
                next((step.at for step in status.history if step.target == SUBMITTED), None)
                if status
                else None
            )
            if at is None:
                still.append((message_id, sent_at))
            else:
                found.append((at - sent_at) * 1000)
        waiting = still
        if waiting:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(waiting)} voice codes not submitted in {WAIT_LIMIT_S:g} s")
            time.sleep(0.1)
    return found


def recipients(count: int, round_index: int) -> Iterator[dict[str, str]]:
    for index in range(count):
        number = f"7916{(round_index * count + index) % 10_000_000:07d}"
        yield {"phone": number, "name": number[-4:]}


def summary(name: str, values: list[float]) -> dict[str, Any]:
    return {
        f"{name}_p50_ms": round(statistics.median(values), 1),
        f"{name}_p99_ms": round(percentile(values, 0.99), 1),
        f"{name}_max_ms": round(max(values), 1),
        f"{name}_codes": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=200)
    parser.add_argument("--messages", type=int, default=200_000, help="SMS per campaign")
    parser.add_argument("--interval-ms", type=float, default=15.0)
    args = parser.parse_args()
    interval_s = args.interval_ms / 1000

    server = start_private_redis()
    prefix = f"bench{secrets.token_hex(4)}"
    client = redis.Redis.from_url(server.url)
    credentials = demo_credentials()
    result: dict[str, Any] = {"codes": args.codes, "campaign_messages": args.messages}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            log_dir = Path(scratch)
            with running_simulator(credentials, log_path=log_dir / "simulator.log") as simulator_url:
                env = {
                    **os.environ,
                    **credentials,
                    "DISPATCHER_REDIS_URL": server.url,
                    "DISPATCHER_KEY_PREFIX": prefix,
                    "DISPATCHER_SIMULATOR_URL": simulator_url,
                }
                os.environ.update(credentials)
                settings = Settings(redis_url=server.url, key_prefix=prefix, simulator_url=simulator_url)
                children = pipeline_children(env, log_dir, queues=(TRANSACTIONAL_QUEUE, BULK_QUEUE))
                with running(children, log_dir), Dispatcher.from_settings(settings) as dispatcher:
                    codes = Codes()
                    # Warm-up: each worker's first task builds its runtime and connections.
                    latencies_ms(dispatcher, send_spread(dispatcher, codes, 5, 0.05, lambda: True))
                    idle = latencies_ms(
                        dispatcher, send_spread(dispatcher, codes, args.codes, interval_s, lambda: True)
                    )
                    result.update(summary("idle", idle))
                    result.update(measure_loaded(dispatcher, codes, args.codes, args.messages, interval_s))
                    result["loaded_vs_idle_p99"] = round(result["loaded_p99_ms"] / result["idle_p99_ms"], 2)
    finally:
        delete_keys(client, prefix)
        client.close()
        server.stop()
    emit(result)


def measure_loaded(
    dispatcher: Dispatcher, codes: Codes, count: int, messages: int, interval_s: float
) -> dict[str, Any]:
    template = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hello {name}, 20% off today"})
    sent: list[tuple[str, float]] = []
    drained, drain_s, rounds = 0, 0.0, 0
    while len(sent) < count:
        campaign_id = dispatcher.campaign(template, recipients(messages, rounds))
        released = time.perf_counter()

        def draining(campaign_id: str = campaign_id) -> bool:
            return dispatcher.campaign_status(campaign_id).get(SUBMITTED, 0) < messages

        sent += send_spread(dispatcher, codes, count - len(sent), interval_s, draining)
        while draining():  # the rest of the drain, so the next round starts on an empty lane
            if time.perf_counter() - released > WAIT_LIMIT_S:
                raise RuntimeError(f"campaign stalled: {dispatcher.campaign_status(campaign_id)}")
            time.sleep(0.02)
        drained += messages
        drain_s += time.perf_counter() - released
        rounds += 1
    return {
        **summary("loaded", latencies_ms(dispatcher, sent)),
        "rounds": rounds,
        "campaign_drain_msgs_per_s": round(drained / drain_s),
    }


if __name__ == "__main__":
    main()
