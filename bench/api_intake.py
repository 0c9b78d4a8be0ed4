"""How fast ``POST /v1/messages`` accepts messages over HTTP, against two baselines of the same run.

Starts ``dispatcher api`` (localstack's ``api_child``) on a private ``redis-server`` and posts
batches (``{"messages": [...]}``, ``--batch`` each, bodies built beforehand) from ``--threads``
keep-alive client sessions; no worker runs, so this is intake only. Prints one JSON object:

- ``http_msgs_per_s``: messages accepted per second over HTTP (median of ``--runs``);
- ``send_many_msgs_per_s``: ``Dispatcher.send_many`` in this process, same messages and batch size,
  same Redis (what the HTTP route calls: the ceiling of the above);
- ``healthz_requests_per_s``: ``GET /healthz`` from the same threads (the server's per-request cost;
  it pings Redis and the broker);
- ``http_vs_send_many``: the ratio of the first two, per run, median.

    .venv/bin/python bench/api_intake.py [--messages 100000] [--batch 1000] [--threads 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import redis
import requests
from support import emit

from dispatcher.localredis import start_private_redis
from dispatcher.localstack import api_child, delete_keys, demo_credentials, running
from dispatcher.models.revicom import RevicomSms
from dispatcher.processes import free_port
from dispatcher.producer import Dispatcher
from dispatcher.settings import Settings


def items(count: int, run: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "revicom_sms",
            "destination": f"7916{(run * count + index) % 10_000_000:07d}",
            "sender_name": "SHOP",
            "text": f"Your order {run}-{index} has shipped",
        }
        for index in range(count)
    ]


def post_all(url: str, key: str, bodies: list[bytes], threads: int) -> float:
    """Seconds to POST every body once from ``threads`` sessions; every answer must be a 202."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def worker(share: list[bytes]) -> None:
        with requests.Session() as session:
            for body in share:
                reply = session.post(url, data=body, headers=headers, timeout=120)
                if reply.status_code != 202:
                    raise RuntimeError(f"{reply.status_code}: {reply.text[:300]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, [bodies[index::threads] for index in range(threads)]))
    return time.perf_counter() - started


def healthz_rate(url: str, count: int, threads: int) -> float:
    def worker(n: int) -> None:
        with requests.Session() as session:
            for _ in range(n):
                session.get(url, timeout=10).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, [count // threads] * threads))
    return count // threads * threads / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="messages per request (API maximum 10,000)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--healthz-requests", type=int, default=2000)
    args = parser.parse_args()

    server = start_private_redis()
    prefix = f"bench{secrets.token_hex(4)}"
    api_key = secrets.token_urlsafe(24)
    port = free_port()
    env = {
        **os.environ,
        **demo_credentials(),
        "DISPATCHER_REDIS_URL": server.url,
        "DISPATCHER_KEY_PREFIX": prefix,
        "DISPATCHER_API_KEYS": api_key,
    }
    os.environ.update({name: value for name, value in env.items() if name.startswith("DISPATCHER_")})
    client = redis.Redis.from_url(server.url)
    http, direct = [], []
    try:
        with (
            tempfile.TemporaryDirectory() as log_dir,
            running([api_child(env, port)], Path(log_dir)),
            Dispatcher.from_settings(Settings()) as dispatcher,
        ):
            base = f"http://127.0.0.1:{port}"
            healthz = healthz_rate(f"{base}/healthz", args.healthz_requests, args.threads)
            for run in range(args.runs):
                # Alternate the two, each on a fresh store: both see the same Redis and machine load.
                batch = items(args.messages, 2 * run)
                bodies = [
                    orjson.dumps({"messages": batch[start : start + args.batch]})
                    for start in range(0, args.messages, args.batch)
                ]
                http.append(args.messages / post_all(f"{base}/v1/messages", api_key, bodies, args.threads))
                delete_keys(client, prefix)

                models = [
                    RevicomSms(**{k: v for k, v in item.items() if k != "type"})
                    for item in items(args.messages, 2 * run + 1)
                ]
                started = time.perf_counter()
                for start in range(0, args.messages, args.batch):
                    dispatcher.send_many(models[start : start + args.batch])
                direct.append(args.messages / (time.perf_counter() - started))
                delete_keys(client, prefix)
    finally:
        client.close()
        server.stop()
    emit(
        {
            "messages": args.messages,
            "batch": args.batch,
            "threads": args.threads,
            "runs": args.runs,
            "http_msgs_per_s": round(statistics.median(http)),
            "send_many_msgs_per_s": round(statistics.median(direct)),
            "http_vs_send_many": round(
                statistics.median(h / d for h, d in zip(http, direct, strict=True)), 3
            ),
            "healthz_requests_per_s": round(healthz),
            "http_msgs_per_s_runs": [round(rate) for rate in http],
            "send_many_msgs_per_s_runs": [round(rate) for rate in direct],
        }
    )


if __name__ == "__main__":
    main()
