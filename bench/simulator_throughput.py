"""How many Revicom messages per second the simulator accepts, in 1,000-message requests.

Starts ``dispatcher simulator`` on a free port, posts pre-built valid requests (distinct numbers in
every message) from a few client threads for a fixed number of requests per run, and prints one
JSON object. A trivial-endpoint request rate (``/_sim/health``) is measured in the same process
run as a baseline, so figures from this noisy machine can be compared.

    .venv/bin/python bench/simulator_throughput.py [--runs 5] [--requests 60] [--threads 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import requests

from dispatcher.localstack import demo_credentials
from dispatcher.simulator.process import running_simulator

MESSAGES_PER_REQUEST = 1000


def build_bodies(count: int, run: int) -> list[bytes]:
    """``count`` request bodies of valid SMS / VOICECODE items, every destination distinct."""
    bodies = []
    for request_index in range(count):
        items: list[dict[str, Any]] = []
        for item_index in range(MESSAGES_PER_REQUEST):
            serial = (run * count + request_index) * MESSAGES_PER_REQUEST + item_index
            destination = f"7916{serial % 10_000_000:07d}"
            if item_index % 10 == 0:
                items.append(
                    {
                        "channelType": "VOICECODE",
                        "senderName": "voicecode",
                        "destination": destination,
                        "content": {
                            "contentType": "text",
                            "text": f"Код авторизации от bench: {serial % 10000:04d}",
                        },
                        "tags": [f"bench{run}r{request_index}"],
                    }
                )
            else:
                items.append(
                    {
                        "channelType": "SMS",
                        "senderName": "BENCH",
                        "destination": destination,
                        "content": f"Your order {serial} has shipped",
                        "tags": [f"bench{run}r{request_index}"],
                    }
                )
        bodies.append(orjson.dumps(items))
    return bodies


def post_all(url: str, token: str, bodies: list[bytes], threads: int) -> float:
    """Seconds to POST every body (each exactly once) from ``threads`` keep-alive sessions."""
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    chunks = [bodies[index::threads] for index in range(threads)]

    def worker(chunk: list[bytes]) -> int:
        accepted = 0
        with requests.Session() as session:
            for body in chunk:
                response = session.post(url, data=body, headers=headers, timeout=60)
                response.raise_for_status()
                result = response.json()
                if result["errors"]:
                    raise RuntimeError("the simulator refused benchmark items")
                accepted += len(result["items"])
        return accepted

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        accepted = sum(pool.map(worker, chunks))
    elapsed = time.perf_counter() - started
    if accepted != len(bodies) * MESSAGES_PER_REQUEST:
        raise RuntimeError(f"accepted {accepted} messages, expected {len(bodies) * MESSAGES_PER_REQUEST}")
    return elapsed


def baseline_requests_per_s(base_url: str, count: int, threads: int) -> float:
    def worker(n: int) -> None:
        with requests.Session() as session:
            for _ in range(n):
                session.get(f"{base_url}/_sim/health", timeout=10).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, [count // threads] * threads))
    return (count // threads * threads) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=60, help="1,000-message requests per run")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--baseline-requests", type=int, default=4000)
    args = parser.parse_args()

    credentials = demo_credentials()
    token = credentials["DISPATCHER_REVICOM_TOKEN"]
    with running_simulator(credentials) as base_url:
        send_url = f"{base_url}/revicom/api/v1/message"
        baseline = baseline_requests_per_s(base_url, args.baseline_requests, args.threads)
        rates = []
        for run in range(args.runs):
            bodies = build_bodies(args.requests, run)
            requests.post(f"{base_url}/_sim/reset", timeout=30).raise_for_status()
            elapsed = post_all(send_url, token, bodies, args.threads)
            rates.append(len(bodies) * MESSAGES_PER_REQUEST / elapsed)
    print(
        orjson.dumps(
            {
                "messages_per_s": round(statistics.median(rates)),
                "messages_per_s_runs": [round(rate) for rate in rates],
                "requests": args.requests * args.runs,
                "messages": args.requests * args.runs * MESSAGES_PER_REQUEST,
                "runs": args.runs,
                "threads": args.threads,
                "baseline_requests_per_s": round(baseline),
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
