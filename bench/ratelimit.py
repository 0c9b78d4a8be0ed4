"""The global rate limiter: what one decision costs, and how exactly two worker processes hold an
account to its limit end to end.

- ``decision_us_p50`` / ``decision_us_p99``: one ``RedisLimiter.acquire`` (one EVALSHA round trip to
  the Redis of ``DISPATCHER_REDIS_URL``), granted, from one client, over ``--decisions`` calls;
- ``limit_msgs_per_s``, ``mean_msgs_per_s``, ``max_msgs_in_any_1s_window``: two workers
  (concurrency 4 each) and beat drain a ``--messages`` campaign to a Revicom account limited to
  ``--limit`` msg/s (burst ``--burst``); the simulator's request log is the measure. The mean is
  the messages after the first request over the time from the first to the last request (the
  bucket starts full).

Everything runs under a random key prefix, deleted afterwards. Prints one JSON object.

    .venv/bin/python bench/ratelimit.py [--decisions 20000] [--messages 3000] [--limit 200]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import redis
from celery import Celery

from dispatcher.accounts import AccountLimits
from dispatcher.localstack import delete_keys, demo_credentials, running_pipeline
from dispatcher.ratelimit import RedisLimiter, quota_for
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.store import NewMessage, Store
from dispatcher.taskqueue import celery_config, kick

SEND_PATH = "/revicom/api/v1/message"
LANE = "revicom:bulk"


def measure_decisions(client: redis.Redis, prefix: str, count: int) -> dict[str, float]:
    limiter = RedisLimiter(client, prefix=prefix)
    roomy = AccountLimits(messages_per_s=1e9, requests_per_s=1e9, burst=10**9, max_concurrent_requests=None)
    quota = quota_for(roomy, "bulk")
    timings_us = []
    for _ in range(count):
        started = time.perf_counter_ns()
        limiter.acquire("bench", quota, messages=100, lease_s=5)
        timings_us.append((time.perf_counter_ns() - started) / 1000)
    timings_us.sort()
    return {
        "decision_us_p50": round(statistics.median(timings_us), 1),
        "decision_us_p99": round(timings_us[int(len(timings_us) * 0.99)], 1),
    }


def providers_file(directory: Path, *, limit: float, burst: int) -> Path:
    path = directory / "providers.toml"
    path.write_text(
        "[accounts.revicom]\n"
        'provider = "revicom"\nbase_url = "{simulator_url}/revicom"\ntoken_env = "DISPATCHER_REVICOM_TOKEN"\n'
        "[accounts.revicom.limits]\n"
        f"messages_per_s = {limit}\nrequests_per_s = 20\nburst = {burst}\ntransactional_reserve = 0.2\n",
        encoding="utf-8",
    )
    return path


def wire(index: int) -> bytes:
    item = {"channelType": "SMS", "senderName": "SHOP", "destination": f"7916{index:07d}", "content": "Hi"}
    return orjson.dumps(item)


def measure_accuracy(env: dict[str, str], log_dir: Path, sim: SimulatorClient, count: int) -> dict[str, Any]:
    settings = Settings(
        redis_url=env["DISPATCHER_REDIS_URL"],
        key_prefix=env["DISPATCHER_KEY_PREFIX"],
        providers_file=env["DISPATCHER_PROVIDERS_FILE"],
    )
    store = Store.from_settings(settings)
    tasks = Celery("bench-client", set_as_current=False)
    tasks.conf.update(celery_config(settings))
    sim.reset()
    with running_pipeline(env, log_dir, workers=2, concurrency=4):
        now = time.time()
        store.create_campaign("bench", account="revicom", lane=LANE)
        messages = [
            NewMessage(id=f"{int(now * 1000):011x}{index:011d}", lane=LANE, provider="revicom",
                       wire=wire(index), ttl_s=600, campaign="bench")
            for index in range(count)
        ]  # fmt: skip
        store.add_messages(messages)
        kick(store, tasks, LANE, settings)
        while store.campaign_counts("bench").get("submitted", 0) < count:
            if time.time() - now > 120:
                raise RuntimeError(f"stalled: {store.campaign_counts('bench')}")
            time.sleep(0.05)
    tasks.close()
    store.close()
    sent = [
        (float(entry["time"]), len(entry["body"]))
        for entry in sim.requests(path=SEND_PATH)
        if entry["method"] == "POST" and entry["status"] == 200
    ]
    busiest = max(sum(n for at, n in sent if start <= at < start + 1) for start, _ in sent)
    return {
        "mean_msgs_per_s": round(sum(n for _, n in sent[1:]) / (sent[-1][0] - sent[0][0]), 1),
        "max_msgs_in_any_1s_window": busiest,
        "requests": len(sent),
        "drain_s": round(sent[-1][0] - sent[0][0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--limit", type=float, default=200)
    parser.add_argument("--burst", type=int, default=50)
    args = parser.parse_args()

    base = Settings()
    prefix = f"bench{secrets.token_hex(4)}"
    client = redis.Redis.from_url(str(base.redis_url))
    result: dict[str, Any] = {}
    try:
        result.update(measure_decisions(client, prefix, args.decisions))
        with tempfile.TemporaryDirectory() as scratch:
            log_dir = Path(scratch)
            # The simulator wants every provider's credentials; only Revicom's are used here.
            credentials = demo_credentials()
            with running_simulator(credentials, log_path=log_dir / "simulator.log") as url:
                env = {
                    **os.environ,
                    **credentials,
                    "DISPATCHER_REDIS_URL": str(base.redis_url),
                    "DISPATCHER_KEY_PREFIX": prefix,
                    "DISPATCHER_SIMULATOR_URL": url,
                    "DISPATCHER_PROVIDERS_FILE": str(
                        providers_file(log_dir, limit=args.limit, burst=args.burst)
                    ),
                }
                sim = SimulatorClient(url)
                result["limit_msgs_per_s"] = args.limit
                result["burst"] = args.burst
                result.update(measure_accuracy(env, log_dir, sim, args.messages))
                sim.close()
    finally:
        delete_keys(client, prefix)
        client.close()
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
