"""End-to-end throughput: a 100,000-SMS campaign through the pipeline, against two baselines.

All three run in the same process run against the same simulator (reset between them):

- ``pipeline_msgs_per_s``: ``Dispatcher.campaign`` (intake) -> Celery worker -> simulator, until every
  message is recorded ``submitted``; clock from the call to the last record;
- ``direct_msgs_per_s``: the same wire items POSTed straight to the simulator in 1,000-message
  requests from ``--threads`` keep-alive sessions (the ceiling: no store, no queue);
- ``naive_celery_msgs_per_s``: one Celery task per message, each POSTing one message (a
  ``--naive-sample`` sample), the design the pipeline replaces.

Uses the Redis of ``DISPATCHER_REDIS_URL`` (or 127.0.0.1:6379) under a random prefix, deleted after.

    .venv/bin/python bench/throughput.py [--messages 100000] [--naive-sample 10000] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import redis
import requests
from celery import Celery

from dispatcher.localstack import delete_keys, demo_credentials, running_pipeline
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.taskqueue import celery_config

SEND_PATH = "/revicom/api/v1/message"
TEXT = "Hello {name}, your order has shipped"
NAIVE_TASK = "bench.send_one"


def numbers(count: int) -> list[str]:
    return [f"7916{index:07d}" for index in range(count)]


def wire_item(number: str) -> dict[str, Any]:
    return {
        "channelType": "SMS",
        "senderName": "SHOP",
        "destination": number,
        "content": TEXT.format(name=number),
    }


def naive_app() -> Celery:
    """The baseline's Celery app: one task per message. A worker imports it as ``-A throughput``."""
    settings = Settings()
    app = Celery("bench-naive", set_as_current=False)
    app.conf.update(celery_config(settings))

    @app.task(name=NAIVE_TASK)  # type: ignore[untyped-decorator]
    def send_one(item: dict[str, Any]) -> None:
        session: requests.Session = getattr(send_one, "session", None) or requests.Session()
        send_one.session = session
        token = os.environ["DISPATCHER_REVICOM_TOKEN"]
        reply = session.post(
            f"{settings.simulator_url}/revicom{SEND_PATH.removeprefix('/revicom')}",
            data=orjson.dumps([item]),
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
            timeout=30,
        )
        reply.raise_for_status()
        client = redis.Redis.from_url(str(settings.redis_url))
        client.incr(f"{{{settings.key_prefix}}}:bench:done")
        client.close()

    return app


if "worker" in sys.argv:  # started as `celery -A throughput worker` by this script
    app = naive_app()


def run_pipeline(
    settings: Settings, sim: SimulatorClient, env: dict[str, str], log_dir: Path, count: int, workers: int
) -> dict[str, Any]:
    sim.reset()
    recipients = [{"phone": number, "name": number} for number in numbers(count)]
    with running_pipeline(env, log_dir, workers=workers), Dispatcher.from_settings(settings) as dispatcher:
        started = time.perf_counter()
        campaign_id = dispatcher.campaign(
            MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": TEXT}), recipients
        )
        intake_s = time.perf_counter() - started
        while dispatcher.campaign_status(campaign_id)["submitted"] < count:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"pipeline stalled: {dispatcher.campaign_status(campaign_id)}")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    posts = [entry for entry in sim.requests(path=SEND_PATH) if entry["method"] == "POST"]
    return {
        "pipeline_msgs_per_s": round(count / elapsed),
        "pipeline_s": round(elapsed, 2),
        "intake_s": round(intake_s, 2),
        # From the end of intake (the campaign released into its lane) to the last message recorded.
        "dispatch_s": round(elapsed - intake_s, 2),
        "requests_made": len(posts),
    }


def run_direct(base_url: str, token: str, sim: SimulatorClient, count: int, threads: int) -> float:
    sim.reset()
    items = [wire_item(number) for number in numbers(count)]
    bodies = [orjson.dumps(items[start : start + 1000]) for start in range(0, count, 1000)]
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def post(share: list[bytes]) -> None:
        with requests.Session() as session:
            for body in share:
                session.post(base_url + SEND_PATH, data=body, headers=headers, timeout=60).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, [bodies[index::threads] for index in range(threads)]))
    return count / (time.perf_counter() - started)


def run_naive(
    settings: Settings,
    sim: SimulatorClient,
    env: dict[str, str],
    log_dir: Path,
    count: int,
    client: redis.Redis,
) -> float:
    sim.reset()
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "throughput",
        "worker",
        "-Q",
        "bulk",
        "-P",
        "threads",
        "-c",
        "8",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    log_path = log_dir / "naive.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command,
            env={**env, "PYTHONPATH": str(Path(__file__).parent)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parent,
        )
    try:
        while b" ready." not in log_path.read_bytes():
            if worker.poll() is not None:
                raise RuntimeError(log_path.read_text()[-2000:])
            time.sleep(0.05)
        app = Celery("bench-client", set_as_current=False)
        app.conf.update(celery_config(settings))
        done_key = f"{{{settings.key_prefix}}}:bench:done"
        started = time.perf_counter()
        for number in numbers(count):
            app.send_task(NAIVE_TASK, args=[wire_item(number)], queue="bulk")
        while int(client.get(done_key) or 0) < count:
            if time.perf_counter() - started > 600:
                raise RuntimeError("naive baseline stalled")
            time.sleep(0.05)
        return count / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the pipeline")
    args = parser.parse_args()

    redis_url = os.environ.get("DISPATCHER_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"bench{secrets.token_hex(4)}"
    credentials = demo_credentials()
    token = credentials["DISPATCHER_REVICOM_TOKEN"]
    os.environ.update(credentials)
    client = redis.Redis.from_url(redis_url)
    try:
        with tempfile.TemporaryDirectory() as log_dir, running_simulator(credentials) as base_url:
            env = {
                **os.environ,
                "DISPATCHER_REDIS_URL": redis_url,
                "DISPATCHER_KEY_PREFIX": prefix,
                "DISPATCHER_SIMULATOR_URL": base_url,
            }
            settings = Settings(redis_url=redis_url, key_prefix=prefix, simulator_url=base_url)
            sim = SimulatorClient(base_url)
            figures = run_pipeline(settings, sim, env, Path(log_dir), args.messages, args.workers)
            direct = run_direct(base_url, token, sim, args.messages, args.threads)
            naive = run_naive(settings, sim, env, Path(log_dir), args.naive_sample, client)
            sim.close()
    finally:
        delete_keys(client, prefix)
        client.close()
    print(
        orjson.dumps(
            {
                "messages": args.messages,
                **figures,
                "direct_msgs_per_s": round(direct),
                "naive_celery_msgs_per_s": round(naive),
                "naive_sample": args.naive_sample,
                "pipeline_vs_direct": round(figures["pipeline_msgs_per_s"] / direct, 2),
                "workers": args.workers,
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
