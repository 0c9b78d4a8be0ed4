"""Bytes per queued, submitted and finished message in the store, and intake / batch speeds.

Finished: after the provider's ``sent`` and ``delivered`` callbacks were applied (``apply_reports``,
as the callback endpoint does): the record's history has grown by two lines, it has its provider id
indexed and an expiry (the retention), and that is what Redis holds for every delivered message
until the retention ends.

Runs on private ``redis-server`` processes (so INFO deltas see only this run): once with the server's
default config and once with ``hash-max-listpack-value 1024``, the setting a deployment should use
(a message hash holds a ~120-byte wire item; above 64 bytes per value Redis's default turns the hash
into a hashtable, which costs ~2.5x the memory). Each run also stores the same wire bytes with a
plain ``SET`` per key as a baseline. Prints one JSON object.

    .venv/bin/python bench/store_memory.py [--messages 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import time
import uuid
from typing import Any

import redis

from dispatcher.localredis import start_private_redis
from dispatcher.providers.outcomes import Submitted
from dispatcher.store import NewMessage, Store
from dispatcher.store.reports import StateReport
from dispatcher.store.states import DELIVERED, SENT

LANE = "revicom:bulk"
BATCH = 1000


def typical_messages(count: int, now: float) -> list[NewMessage]:
    """Campaign SMS with a ~120-byte wire item and a time-ordered 22-character id."""
    messages = []
    for serial in range(count):
        wire = (
            b'{"channelType":"SMS","senderName":"SHOPNAME","destination":"7916%07d",'
            b'"content":"Your order %07d has shipped, track it at ex.co/t"}' % (serial, serial)
        )
        messages.append(
            NewMessage(
                id=f"{int(now * 1000) + serial:011x}{secrets.token_hex(6)[:11]}",
                lane=LANE,
                provider="revicom",
                wire=wire,
                ttl_s=86400,
                campaign="bench-campaign",
                channel="sms",  # as the producer stores it (the statistics label)
            )
        )
    return messages


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


#: Redis's own default for hash-max-listpack-value (the private server starts with 1024).
REDIS_DEFAULT_LISTPACK_VALUE = 64


def measure(listpack_value: int | None, count: int) -> dict[str, Any]:
    server = start_private_redis()
    try:
        client = redis.Redis.from_url(server.url)
        client.config_set("hash-max-listpack-value", listpack_value or REDIS_DEFAULT_LISTPACK_VALUE)
        now = time.time()
        messages = typical_messages(count, now)

        before = used_memory(client)
        pipe = client.pipeline(transaction=False)
        for message in messages:
            pipe.set(f"{{base}}:m:{message.id}", message.wire)
        pipe.execute()
        baseline = (used_memory(client) - before) / count
        client.flushall()

        store = Store(client, prefix="bench")
        before = used_memory(client)
        started = time.perf_counter()
        store.add_messages(messages)
        intake_s = time.perf_counter() - started
        queued = (used_memory(client) - before) / count
        sample = client.memory_usage(f"{{bench}}:m:{messages[0].id}", samples=0)
        encoding = client.object("encoding", f"{{bench}}:m:{messages[0].id}")

        take_ms, record_ms = [], []
        provider_ids: list[str] = []
        while True:
            started = time.perf_counter()
            batch = store.take_batch(LANE, max_size=BATCH, worker="bench", take_timeout_s=30)
            if batch is None:
                break
            take_ms.append((time.perf_counter() - started) * 1000)
            store.mark_posting(batch.id, tag=uuid.uuid4().hex, reclaim_after_s=80)
            outcomes = [(item.id, Submitted(str(uuid.uuid4()))) for item in batch.items]
            provider_ids += [outcome.provider_message_id for _, outcome in outcomes]
            started = time.perf_counter()
            store.record_outcomes(batch.id, outcomes, account="revicom")
            record_ms.append((time.perf_counter() - started) * 1000)
        submitted = (used_memory(client) - before) / count
        callback_ms = []
        for start in range(0, count, BATCH):
            chunk = provider_ids[start : start + BATCH]
            reports = [
                StateReport(pid, target, f"callback {target}")
                for target in (SENT, DELIVERED)
                for pid in chunk
            ]
            started = time.perf_counter()
            store.apply_reports("revicom", ["revicom"], reports, park_for_s=3600)
            callback_ms.append((time.perf_counter() - started) * 1000)
        finished = (used_memory(client) - before) / count
        state = client.hget(f"{{bench}}:m:{messages[-1].id}", "st")
        if state != DELIVERED.encode():
            raise RuntimeError(f"the last message is {state!r} after its callbacks, not delivered")
        return {
            "baseline_set_bytes_per_message": round(baseline),
            "bytes_per_queued_message": round(queued),
            "bytes_per_submitted_message": round(submitted),
            "bytes_per_finished_message": round(finished),
            "memory_usage_of_one_queued_hash": sample,
            "queued_hash_encoding": encoding.decode() if isinstance(encoding, bytes) else encoding,
            "add_messages_per_s": round(count / intake_s),
            "take_batch_1000_ms_median": round(statistics.median(take_ms), 2),
            "record_outcomes_1000_ms_median": round(statistics.median(record_ms), 2),
            "apply_reports_2000_ms_median": round(statistics.median(callback_ms), 2),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()

    def best_of(listpack_value: int | None) -> dict[str, Any]:
        runs = [measure(listpack_value, arguments.messages) for _ in range(arguments.runs)]
        result = min(runs, key=lambda run: run["bytes_per_queued_message"])
        speeds = [run["add_messages_per_s"] for run in runs]
        result["add_messages_per_s"] = max(speeds)
        result["add_messages_per_s_median"] = round(statistics.median(speeds))
        return result

    tuned = best_of(1024)
    tuned["default_server_config"] = best_of(None)
    tuned["redis_config"] = "hash-max-listpack-value 1024"
    tuned["messages"] = arguments.messages
    tuned["runs"] = arguments.runs
    print(json.dumps(tuned))


if __name__ == "__main__":
    main()
