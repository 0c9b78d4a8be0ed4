"""How time and memory grow with the campaign: 10k, 100k and 1M SMS end to end.

For each size a fresh stack: a private ``redis-server`` (``hash-max-listpack-value 1024``), the
simulator, one worker on both queues and beat (like ``bench/throughput.py``), and the producer in
its own process (``Dispatcher.campaign`` over a generator of recipients). The clock runs from the
producer's call until every message is recorded ``submitted``. Memory is each process's peak
resident set (``VmHWM``, the kernel's high-water mark, read just before the process stops) and
Redis's ``used_memory_peak`` over its memory before the run. Prints one JSON object:

- ``sizes``: per size, ``seconds``, ``msgs_per_s``, ``intake_s``, ``peak_rss_mib`` per process
  (producer, worker, beat, simulator, redis-server), ``redis_peak_mib`` and
  ``redis_peak_bytes_per_message``;
- ``peak_ratio_largest_to_smallest``: per process, largest size's peak / smallest's (flat
  memory: ~1; the producer and the workers should stay flat, Redis and the simulator hold every
  message by design);
- ``msgs_per_s_ratio_largest_to_smallest``: how the rate holds up.

Everything is deleted afterwards (each private Redis is stopped).

    .venv/bin/python bench/scaling.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import redis
from support import emit, memory_kib, peak_rss_by_role

from dispatcher.localredis import start_private_redis
from dispatcher.localstack import demo_credentials, running_pipeline
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.settings import Settings
from dispatcher.simulator.process import running_simulator
from dispatcher.store import Store
from dispatcher.store.states import SUBMITTED

WAIT_LIMIT_S = 1800.0


def recipients(count: int) -> Iterator[dict[str, str]]:
    for index in range(count):
        number = f"79{index:09d}"
        yield {"phone": number, "name": number[-4:]}


def produce(count: int) -> None:
    """The producer process: one campaign, then its own figures as one JSON line."""
    started = time.time()
    with Dispatcher.from_settings(Settings()) as dispatcher:
        template = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hello {name}, 20% off today"})
        campaign_id = dispatcher.campaign(template, recipients(count))
    ended = time.time()
    print(
        orjson.dumps(
            {
                "campaign": campaign_id,
                "started": started,
                "intake_s": ended - started,
                "peak_rss_kib": memory_kib(os.getpid())["VmHWM"],
                "cpu_s": sum(os.times()[:2]),
            }
        ).decode()
    )


def run_size(count: int, log_dir: Path) -> dict[str, Any]:
    server = start_private_redis()
    client = redis.Redis.from_url(server.url)
    prefix = f"bench{secrets.token_hex(4)}"
    credentials = demo_credentials()
    try:
        memory = client.info("memory")
        redis_before = int(memory["used_memory"])
        with running_simulator(credentials, log_path=log_dir / f"simulator-{count}.log") as simulator_url:
            env = {
                **os.environ,
                **credentials,
                "DISPATCHER_REDIS_URL": server.url,
                "DISPATCHER_KEY_PREFIX": prefix,
                "DISPATCHER_SIMULATOR_URL": simulator_url,
            }
            store = Store(client, prefix=prefix)
            with running_pipeline(env, log_dir):
                producer = subprocess.run(
                    [sys.executable, __file__, "--produce", str(count)],
                    env=env,
                    capture_output=True,
                    check=True,
                )
                made = orjson.loads(producer.stdout.splitlines()[-1])
                while store.campaign_counts(made["campaign"]).get(SUBMITTED, 0) < count:
                    if time.time() - made["started"] > WAIT_LIMIT_S:
                        raise RuntimeError(f"stalled: {store.campaign_counts(made['campaign'])}")
                    time.sleep(0.05)
                seconds = time.time() - made["started"]
                peaks = peak_rss_by_role()
        memory = client.info("memory")
        redis_peak = int(memory["used_memory_peak"]) - redis_before
    finally:
        client.close()
        server.stop()
    peaks["producer"] = round(made["peak_rss_kib"] / 1024)
    return {
        "messages": count,
        "seconds": round(seconds, 2),
        "msgs_per_s": round(count / seconds),
        "intake_s": round(made["intake_s"], 2),
        "producer_cpu_s": round(made["cpu_s"], 2),
        "peak_rss_mib": peaks,
        "redis_peak_mib": round(redis_peak / 2**20, 1),
        "redis_peak_bytes_per_message": round(redis_peak / count),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated message counts")
    parser.add_argument("--produce", type=int, help=argparse.SUPPRESS)  # the producer process
    args = parser.parse_args()
    if args.produce:
        produce(args.produce)
        return
    sizes = sorted(int(size) for size in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as scratch:
        runs = [run_size(count, Path(scratch)) for count in sizes]
    smallest, largest = runs[0], runs[-1]
    emit(
        {
            "sizes": runs,
            "peak_ratio_largest_to_smallest": {
                role: round(mib / smallest["peak_rss_mib"][role], 2)
                for role, mib in largest["peak_rss_mib"].items()
                if smallest["peak_rss_mib"].get(role)
            },
            "msgs_per_s_ratio_largest_to_smallest": round(largest["msgs_per_s"] / smallest["msgs_per_s"], 2),
            "largest": largest["messages"],
            "smallest": smallest["messages"],
        }
    )


if __name__ == "__main__":
    main()
