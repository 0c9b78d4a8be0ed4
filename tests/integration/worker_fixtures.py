"""Real pipeline processes for integration tests: Celery workers and beat, each under the test's key
prefix, pointed at the test simulator with its credentials, and stopped afterwards.

``pipeline`` gives a ``PipelineProcesses``: ``start_worker(env=...)`` (extra or overriding variables,
e.g. a wrong token), ``kill(worker)`` (SIGKILL), ``start_beat()``, ``use_limits(account, ...)`` (a
providers file with other rate limits, before starting processes); plus ``settings`` (the same
settings the processes read) and ``tasks`` (a Celery client app to kick lanes with).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from celery import Celery

from dispatcher.accounts import Account
from dispatcher.pipeline.adapters import AdapterCache
from dispatcher.pipeline.runtime import Runtime
from dispatcher.processes import stop_process
from dispatcher.ratelimit import RedisLimiter
from dispatcher.settings import DEFAULT_PROVIDERS_FILE, Settings
from dispatcher.store import NewMessage, Store
from dispatcher.taskqueue import celery_config

#: Short timeouts, so that reclaiming and reconciling happen within a test's few seconds.
FAST_PIPELINE_ENV = {
    "DISPATCHER_CONNECT_TIMEOUT_S": "1",
    "DISPATCHER_READ_TIMEOUT_S": "1.5",
    "DISPATCHER_RECONCILE_GRACE_S": "0.5",
    "DISPATCHER_BACKOFF_BASE_S": "0.2",
    "DISPATCHER_BACKOFF_CAP_S": "1",
    "DISPATCHER_RUNNER_LEASE_S": "3",
    "DISPATCHER_TAKE_TIMEOUT_S": "3",
    "DISPATCHER_DISPATCH_SLICE_S": "2",
    "DISPATCHER_BULK_LINGER_S": "0.01",
}
READY_TIMEOUT_S = 20.0
CELERY = [sys.executable, "-m", "celery", "-A", "workers"]


class PipelineProcesses:
    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.settings = Settings(**_settings_fields(self.env))
        self.tasks = Celery("dispatcher-test-client")
        self.tasks.conf.update(celery_config(self.settings))
        self._processes: list[subprocess.Popen[bytes]] = []

    def use_limits(self, account: str, **limits: float) -> Path:
        """Give ``account`` these rate limits (the other accounts keep the default file's) in a
        providers file the processes started from now on read."""
        document = tomllib.loads(DEFAULT_PROVIDERS_FILE.read_text(encoding="utf-8"))
        document["accounts"][account]["limits"] = limits
        path = self.log_dir / "providers.toml"
        path.write_text(_toml_accounts(document["accounts"]), encoding="utf-8")
        self.env["DISPATCHER_PROVIDERS_FILE"] = str(path)
        self.settings = Settings(**_settings_fields(self.env))
        return path

    def start_worker(
        self, *, concurrency: int = 8, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        name = f"w{secrets.token_hex(3)}@%h"
        command = [*CELERY, "worker", "-Q", "transactional,bulk", "-P", "threads", "-c", str(concurrency)]
        command += ["-n", name, "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
        return self._start(command, env=env, ready_marker=b" ready.")

    def start_beat(self, *, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        schedule = self.log_dir / f"beat-{secrets.token_hex(3)}"
        command = [*CELERY, "beat", "-s", str(schedule), "--max-interval", "1", "--loglevel", "INFO"]
        return self._start(command, env=env, ready_marker=b"beat: Starting")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no shutdown, no acknowledgements, leases and batches left as they are."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        stop_process(process)

    def close(self) -> None:
        for process in self._processes:
            self.stop(process)
        self.tasks.close()
        # Shown by pytest only when the test failed: what the workers and beat said.
        for log_path in sorted(self.log_dir.glob("*.log")):
            print(f"--- {log_path.name} ---\n{log_path.read_text(errors='replace')[-4000:]}")

    def _start(
        self, command: list[str], *, env: Mapping[str, str] | None, ready_marker: bytes
    ) -> subprocess.Popen[bytes]:
        log_path = self.log_dir / f"{command[4]}-{len(self._processes)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
            )
        self._processes.append(process)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while ready_marker not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop(process)
                raise RuntimeError(
                    f"{command[4]} did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.05)
        return process


def _toml_accounts(accounts: Mapping[str, Mapping[str, Any]]) -> str:
    """The providers file's shape: ``[accounts.NAME]`` of scalars, each with a ``.limits`` table."""
    lines = []
    for name, entry in accounts.items():
        for table, values in ((f"accounts.{name}", entry), (f"accounts.{name}.limits", entry.get("limits"))):
            if values:
                lines.append(f"[{table}]")
                lines += [
                    f"{key} = {orjson.dumps(value).decode()}"
                    for key, value in values.items()
                    if key != "limits"
                ]
    return "\n".join(lines) + "\n"


def _settings_fields(env: Mapping[str, str]) -> dict[str, Any]:
    prefix = "DISPATCHER_"
    known = Settings.model_fields
    return {
        name[len(prefix) :].lower(): value
        for name, value in env.items()
        if name.startswith(prefix) and name[len(prefix) :].lower() in known
    }


@pytest.fixture
def pipeline_env(redis_url: str, key_prefix: str, sim_credentials: Any, simulator_url: str) -> dict[str, str]:
    """The environment of the test's pipeline processes."""
    return {
        **os.environ,
        **sim_credentials.environment(),
        **FAST_PIPELINE_ENV,
        "DISPATCHER_REDIS_URL": redis_url,
        "DISPATCHER_KEY_PREFIX": key_prefix,
        "DISPATCHER_SIMULATOR_URL": simulator_url,
    }


@pytest.fixture
def pipeline(pipeline_env: dict[str, str], tmp_path: Path) -> Iterator[PipelineProcesses]:
    processes = PipelineProcesses(pipeline_env, tmp_path)
    yield processes
    processes.close()


def revicom_sms(destination: str, text: str = "Your order has shipped") -> bytes:
    """A Revicom SMS wire item, built by hand (so a test may also build one the models would refuse)."""
    return orjson.dumps(
        {"channelType": "SMS", "senderName": "Dispatch", "destination": destination, "content": text}
    )


def revicom_voice_code(destination: str) -> bytes:
    content = {"contentType": "text", "text": "Код авторизации от Shop: 1234"}
    return orjson.dumps(
        {
            "channelType": "VOICECODE",
            "senderName": "voicecode",
            "destination": destination,
            "content": content,
        }
    )


def numbers(count: int, *, first: int = 0) -> list[str]:
    """Distinct valid Russian mobile numbers."""
    return [f"7916{index:07d}" for index in range(first, first + count)]


def enqueue(
    store: Store, lane: str, wires: list[bytes], *, campaign: str, deadline_s: float = 600
) -> list[str]:
    """Store messages in ``lane`` under ``campaign`` (created here), as the producer does."""
    now = store.now()
    store.create_campaign(campaign, account=lane.split(":", maxsplit=1)[0], lane=lane)
    messages = [
        NewMessage(
            id=f"{int(now * 1000):011x}{index:011d}",
            lane=lane,
            provider="revicom",
            wire=wire,
            ttl_s=deadline_s,
            campaign=campaign,
        )
        for index, wire in enumerate(wires)
    ]
    return [
        message_id
        for start in range(0, len(messages), 1000)
        for message_id in store.add_messages(messages[start : start + 1000])
    ]


def wait_for(condition: Callable[[], bool], *, timeout_s: float, what: str) -> float:
    """Poll ``condition`` until true; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


class RecordedTasks:
    """Stands in for Celery in a pipeline step run in the test's own process: tasks it would send
    are recorded, not run (the step itself, not a worker, is under test)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.sent.append((name, kwargs))


def in_process_runtime(
    store: Store, redis_client: redis.Redis, accounts: dict[str, Account], settings: Settings
) -> Runtime:
    """A worker's runtime in the test process, on the test's store and the simulator's accounts."""
    return Runtime(
        settings=settings,
        store=store,
        limiter=RedisLimiter(redis_client, prefix=settings.key_prefix),
        adapters=AdapterCache(accounts, settings),
        tasks=RecordedTasks(),
        worker="test",
    )
