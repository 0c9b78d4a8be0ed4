"""How fast ``Dispatcher`` accepts messages: ``send_many`` and ``campaign``, against the raw store.

Uses the Redis of ``DISPATCHER_REDIS_URL`` (or 127.0.0.1:6379) under a random key prefix, deleted
afterwards. No worker runs, so nothing is sent: this measures intake only. Kicks go to a sender that
only counts them. Prints one JSON object:

- ``send_many_msgs_per_s``: ``send_many`` of pre-built RevicomSms models (ids, wire items, store);
- ``campaign_msgs_per_s``: ``campaign`` from a CSV file with a ``{name}`` placeholder (two passes:
  check every row, then render, encode and store);
- ``build_msgs_per_s``: building the models themselves from dicts (the caller's side of send_many);
- ``store_baseline_msgs_per_s``: ``Store.add_messages`` of ready records, the ceiling of the above;
- ``send_one_cpu_us`` / ``send_one_wall_us``: one ``send`` (a transactional SMS: its store script
  and its lane's kick, two round trips), CPU and wall time per call, over ``--singles`` sends.

    .venv/bin/python bench/intake.py [--messages 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import redis

from dispatcher.accounts import load_accounts
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.producer.ids import new_message_ids
from dispatcher.settings import Settings
from dispatcher.store import NewMessage, Store

#: The raw-store baseline's wire item: the size of the benchmark's SMS.
WIRE = orjson.dumps(
    {
        "channelType": "SMS",
        "senderName": "SHOP",
        "destination": "79161234567",
        "content": "Your order 1-1 has shipped",
    }
)


class CountingSender:
    """Stands in for Celery: this benchmark measures intake, no worker takes the tasks."""

    def __init__(self) -> None:
        self.sent = 0

    def send_task(self, name: str, args: Any = None, **options: Any) -> None:
        self.sent += 1


def numbers(count: int, offset: int) -> list[str]:
    return [f"7916{(offset + index) % 10_000_000:07d}" for index in range(count)]


def delete_prefix(client: redis.Redis, prefix: str) -> None:
    for keys in _batched(client.scan_iter(match=f"{{{prefix}}}:*", count=5000), 5000):
        client.unlink(*keys)


def _batched(iterable: Any, size: int) -> Any:
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def timed(action: Any, *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--singles", type=int, default=3000, help="single sends per run")
    args = parser.parse_args()
    count = args.messages

    prefix = f"bench{secrets.token_hex(4)}"
    settings = Settings(
        redis_url=os.environ.get("DISPATCHER_REDIS_URL", "redis://127.0.0.1:6379/0"), key_prefix=prefix
    )
    client = redis.Redis.from_url(str(settings.redis_url))
    store = Store(client, prefix=prefix)
    sender = CountingSender()
    dispatcher = Dispatcher(store, load_accounts(settings), settings, tasks=sender)
    rates: dict[str, list[float]] = {"send_many": [], "campaign": [], "build": [], "store": []}
    single_cpu_us: list[float] = []
    single_wall_us: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        csv_path = Path(directory) / "recipients.csv"
        with csv_path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["phone", "name"])
            writer.writerows([number, f"Customer {index}"] for index, number in enumerate(numbers(count, 0)))
        try:
            template = MessageTemplate(
                RevicomSms, {"sender_name": "SHOP", "text": "Hello {name}, 20% off today"}
            )
            for run in range(args.runs):
                raw = [
                    {
                        "destination": number,
                        "sender_name": "SHOP",
                        "text": f"Your order {run}-{index} has shipped",
                    }
                    for index, number in enumerate(numbers(count, run * count))
                ]
                started = time.perf_counter()
                built = [RevicomSms(**item) for item in raw]
                rates["build"].append(count / (time.perf_counter() - started))
                rates["send_many"].append(count / timed(dispatcher.send_many, built))

                now = time.time()
                records = [
                    NewMessage(message_id, "revicom:bulk", "revicom", WIRE, 86400)
                    for message_id in new_message_ids(count, now=now)
                ]
                rates["store"].append(count / timed(store.add_messages, records))
                rates["campaign"].append(count / timed(dispatcher.campaign, template, csv_path))
                singles = [
                    RevicomSms(destination=number, sender_name="SHOP", text="Your code is 1234")
                    for number in numbers(args.singles, (run + 7) * count)
                ]
                cpu_started, wall_started = time.process_time(), time.perf_counter()
                for message in singles:
                    dispatcher.send(message)
                single_cpu_us.append((time.process_time() - cpu_started) / len(singles) * 1e6)
                single_wall_us.append((time.perf_counter() - wall_started) / len(singles) * 1e6)
                delete_prefix(client, prefix)
        finally:
            delete_prefix(client, prefix)
    print(
        orjson.dumps(
            {
                "messages": count,
                "runs": args.runs,
                "send_many_msgs_per_s": round(statistics.median(rates["send_many"])),
                "campaign_msgs_per_s": round(statistics.median(rates["campaign"])),
                "build_msgs_per_s": round(statistics.median(rates["build"])),
                "store_baseline_msgs_per_s": round(statistics.median(rates["store"])),
                "send_one_cpu_us": round(statistics.median(single_cpu_us), 1),
                "send_one_wall_us": round(statistics.median(single_wall_us), 1),
                "runs_send_many": [round(rate) for rate in rates["send_many"]],
                "kicks": sender.sent,
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
