"""End-to-end throughput: a 100,000-SMS campaign through the pipeline, against two baselines.

All three run in the same process run against the same simulator (reset between them):

- ``pipeline_msgs_per_s``: ``Dispatcher.campaign`` (intake) -> Celery worker -> simulator, until every
  message is recorded ``submitted``; clock from the call to the last record;
- ``direct_msgs_per_s``: the same wire items POSTed straight to the simulator in 1,000-message
  requests from ``--threads`` keep-alive sessions (the ceiling: no store, no queue);
- ``naive_celery_msgs_per_s``: one Celery task per message, each POSTing one message (a
  ``--naive-sample`` sample), the design the pipeline replaces.

``--runs N`` repeats the pipeline and the direct posting N times (alternating) and reports the
medians, every run's figures and the median of the per-run ratios; the naive baseline runs once.
``--profile DIR`` samples the producer (this process) and the worker with py-spy during the
pipeline runs and adds their busiest functions to the JSON (raw profiles stay in DIR).

``pipeline_cpu_cores``: CPU used by each process during the pipeline runs, in cores (2 = the whole
machine here), which says which process holds the rate back.

Starts a private ``redis-server`` (so other users of the machine's Redis neither slow it nor show
in its CPU figure); ``--redis env`` uses ``DISPATCHER_REDIS_URL`` (or 127.0.0.1:6379) instead, under
a random prefix deleted after.

    .venv/bin/python bench/throughput.py [--messages 100000] [--runs 1] [--naive-sample 10000]
        [--workers 1] [--profile DIR] [--redis private|env]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import redis
import requests
from celery import Celery
from support import cpu_by_role, cpu_share, emit, pids_by_role, profiled, top_of_profile

from dispatcher.localredis import start_private_redis
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
    settings: Settings,
    sim: SimulatorClient,
    env: dict[str, str],
    log_dir: Path,
    count: int,
    workers: int,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    sim.reset()
    recipients = [{"phone": number, "name": number} for number in numbers(count)]
    with (
        running_pipeline(env, log_dir, workers=workers),
        Dispatcher.from_settings(settings) as dispatcher,
        ExitStack() as profiles,
    ):
        if profile_dir is not None:
            worker = next(pid for role, pid in pids_by_role().items() if role.startswith("worker"))
            profiles.enter_context(profiled(worker, profile_dir / f"worker-{time.time_ns()}.txt"))
            profiles.enter_context(profiled(os.getpid(), profile_dir / f"producer-{time.time_ns()}.txt"))
        cpu_before = cpu_by_role()
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
        cpu = cpu_share(cpu_before, cpu_by_role(), elapsed)
    posts = [entry for entry in sim.requests(path=SEND_PATH) if entry["method"] == "POST"]
    return {
        "pipeline_msgs_per_s": round(count / elapsed),
        "pipeline_s": round(elapsed, 2),
        "intake_s": round(intake_s, 2),
        # From the end of intake (the campaign released into its lane) to the last message recorded.
        "dispatch_s": round(elapsed - intake_s, 2),
        "requests_made": len(posts),
        "cpu_cores": cpu,
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


def profile_tops(profile_dir: Path) -> dict[str, Any]:
    """The busiest functions of the worker and producer profiles (all runs' samples together)."""
    tops = {}
    for role in ("worker", "producer"):
        merged = profile_dir / f"{role}.txt"
        merged.write_text("".join(path.read_text() for path in sorted(profile_dir.glob(f"{role}-*.txt"))))
        # The producer's profile: the campaign intake (both of its threads), not the waiting loop.
        tops[role] = top_of_profile(merged, include=("producer/campaigns.py",) if role == "producer" else ())
    return tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1, help="pipeline and direct runs (medians reported)")
    parser.add_argument("--naive-sample", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the pipeline")
    parser.add_argument("--profile", type=Path, help="py-spy the producer and the worker into this folder")
    parser.add_argument("--redis", choices=("private", "env"), default="private")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)

    server = start_private_redis() if args.redis == "private" else None
    redis_url = server.url if server else os.environ.get("DISPATCHER_REDIS_URL", "redis://127.0.0.1:6379/0")
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
            runs: list[dict[str, Any]] = []
            for _ in range(args.runs):
                figures = run_pipeline(
                    settings, sim, env, Path(log_dir), args.messages, args.workers, args.profile
                )
                figures["direct_msgs_per_s"] = round(
                    run_direct(base_url, token, sim, args.messages, args.threads)
                )
                figures["pipeline_vs_direct"] = round(
                    figures["pipeline_msgs_per_s"] / figures["direct_msgs_per_s"], 3
                )
                runs.append(figures)
                delete_keys(client, prefix)
            naive = run_naive(settings, sim, env, Path(log_dir), args.naive_sample, client)
            sim.close()
    finally:
        delete_keys(client, prefix)
        client.close()
        if server is not None:
            server.stop()
    medians = {
        key: statistics.median(run[key] for run in runs)
        for key in ("pipeline_msgs_per_s", "pipeline_s", "intake_s", "dispatch_s", "direct_msgs_per_s")
    }
    result: dict[str, Any] = {
        "messages": args.messages,
        "runs": args.runs,
        **{key: round(value) if "per_s" in key else round(value, 2) for key, value in medians.items()},
        "requests_made": runs[-1]["requests_made"],
        "naive_celery_msgs_per_s": round(naive),
        "naive_sample": args.naive_sample,
        "pipeline_vs_direct": round(statistics.median(run["pipeline_vs_direct"] for run in runs), 3),
        "pipeline_vs_naive": round(medians["pipeline_msgs_per_s"] / naive, 1),
        "workers": args.workers,
        "pipeline_msgs_per_s_runs": [run["pipeline_msgs_per_s"] for run in runs],
        "direct_msgs_per_s_runs": [run["direct_msgs_per_s"] for run in runs],
        "pipeline_cpu_cores": {
            role: round(statistics.median(run["cpu_cores"].get(role, 0.0) for run in runs), 2)
            for role in runs[0]["cpu_cores"]
        },
        "redis": "private" if server else "shared",
    }
    if args.profile is not None:
        result["profile"] = profile_tops(args.profile)
    emit(result)


if __name__ == "__main__":
    main()
