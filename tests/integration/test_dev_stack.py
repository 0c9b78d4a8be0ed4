"""`dispatcher dev` as a real process: `--demo` runs to the end by itself; without it the stack
serves (the API, Flower behind basic auth) until SIGINT or SIGTERM. Either way no process is left:
`dispatcher dev` runs in its own process group, which must be empty afterwards."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dispatcher import Dispatcher
from dispatcher.models.revicom import RevicomSms
from dispatcher.processes import free_port
from dispatcher.settings import Settings
from tests.integration.worker_fixtures import numbers
from tests.support import scrape

pytestmark = pytest.mark.integration
DEMO_TIMEOUT_S = 150
FLOWER_PASSWORD = "a-test-password"


def group_is_empty(pgid: int, *, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test started; their groups are killed if the test left anything running."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if not group_is_empty(process.pid, timeout_s=0):
            os.killpg(process.pid, signal.SIGKILL)  # only after a failure: the test reports it


def dev(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dispatcher", "dev", *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_dev_demo_runs_to_the_end_and_leaves_no_process(
    redis_url: str, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "dev.log"
    env = {**os.environ, "DISPATCHER_REDIS_URL": redis_url, "XDG_STATE_HOME": str(tmp_path / "state")}
    process = dev(env, "--demo", log=log)
    started.append(process)

    returncode = process.wait(timeout=DEMO_TIMEOUT_S)

    output = log.read_text()
    assert returncode == 0, output
    assert "campaign     delivered" in output
    # Every kind of message reached a final state (which one is the simulator's dice).
    assert "voice codes  " in output
    assert "rcs          " in output
    assert "Flower     http://127.0.0.1:" in output
    assert group_is_empty(process.pid), "dispatcher dev --demo left processes behind"


def start_serving(
    env: dict[str, str], log: Path, started: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], dict[str, int]]:
    """`dispatcher dev` on free ports, once it says it is ready."""
    ports = {name: free_port() for name in ("api", "simulator", "flower")}
    process = dev(env, *(f"--{name}-port={port}" for name, port in ports.items()), log=log)
    started.append(process)
    deadline = time.monotonic() + 90
    while "Press Ctrl-C" not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return process, ports


def serving_env(redis_url: str, key_prefix: str, state_home: Path) -> dict[str, str]:
    """The environment of a test's `dispatcher dev`: the test's Redis and prefix, and a state
    directory of its own (where the stack's settings file goes: never the real home's)."""
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith("DISPATCHER_")},
        "XDG_STATE_HOME": str(state_home),
        "DISPATCHER_REDIS_URL": redis_url,
        "DISPATCHER_KEY_PREFIX": key_prefix,
        "DISPATCHER_FLOWER_USER": "ops",
        "DISPATCHER_FLOWER_PASSWORD": FLOWER_PASSWORD,
    }


def metrics_urls(output: str) -> dict[str, str]:
    """The Prometheus URL of each pipeline process, as `dispatcher dev` printed them."""
    found = re.findall(r"^  (worker-\S+|beat)\s+(http://\S+/metrics)$", output, flags=re.MULTILINE)
    return dict(found)


def send_and_wait_submitted(env: dict[str, str], count: int) -> None:
    settings = Settings(
        **{  # the stack's settings: same Redis and prefix
            name: env[f"DISPATCHER_{name.upper()}"] for name in ("redis_url", "key_prefix")
        }
    )
    with Dispatcher.from_settings(settings) as dispatcher:
        sms = [RevicomSms(destination=number, sender_name="Shop", text="Hi") for number in numbers(count)]
        ids = dispatcher.send_many(sms)
        deadline = time.monotonic() + 30
        while any(status.state in ("queued", "sending") for status in map(dispatcher.status, ids)):
            assert time.monotonic() < deadline, "the dev stack did not send the messages"
            time.sleep(0.2)


def test_dev_serves_until_sigterm_then_stops_everything(
    redis_url: str, key_prefix: str, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "dev.log"
    env = serving_env(redis_url, key_prefix, tmp_path / "state")
    process, ports = start_serving(env, log, started)

    flower = f"http://127.0.0.1:{ports['flower']}"
    anonymous = requests.get(f"{flower}/workers", timeout=10)
    signed_in = requests.get(f"{flower}/api/workers", auth=("ops", FLOWER_PASSWORD), timeout=10)
    api = requests.get(f"http://127.0.0.1:{ports['api']}/healthz", timeout=10)
    send_and_wait_submitted(env, 30)
    urls = metrics_urls(log.read_text())
    beat = scrape(urls["beat"])
    bulk_worker = scrape(urls["worker-bulk-0"])
    process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=60)

    assert anonymous.status_code == 401
    assert signed_in.status_code == 200
    assert api.status_code < 500
    # Beat serves the store's state; each worker what it did (send_many goes to the bulk lane).
    revicom_sms = frozenset({("provider", "revicom"), ("channel", "sms")})
    assert beat[("dispatcher_store_up", frozenset())] == 1
    assert beat[("dispatcher_messages_total", revicom_sms | {("state", "submitted")})] == 30
    assert beat[("dispatcher_messages_total", revicom_sms | {("state", "queued")})] == 30
    assert beat[("dispatcher_lane_depth", frozenset({("lane", "revicom:bulk")}))] == 0
    ok_requests = frozenset({("account", "revicom"), ("provider", "revicom"), ("outcome", "ok")})
    assert bulk_worker[("dispatcher_provider_request_seconds_count", ok_requests)] >= 1
    assert bulk_worker[("dispatcher_provider_request_messages_total", ok_requests)] == 30
    assert set(urls) == {"worker-transactional-0", "worker-bulk-0", "beat"}
    assert FLOWER_PASSWORD not in log.read_text()
    assert returncode == 0, log.read_text()
    assert "Stopped everything." in log.read_text()
    assert group_is_empty(process.pid), "dispatcher dev left processes behind"


def test_dev_stops_everything_when_one_of_its_processes_dies(
    redis_url: str, key_prefix: str, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "dev.log"
    process, _ = start_serving(serving_env(redis_url, key_prefix, tmp_path / "state"), log, started)
    [worker_pid] = subprocess.run(
        ["pgrep", "-g", str(process.pid), "-f", "worker -Q bulk"], capture_output=True, text=True, check=True
    ).stdout.split()

    os.kill(int(worker_pid), signal.SIGKILL)
    returncode = process.wait(timeout=60)

    output = log.read_text()
    assert returncode == 1, output
    assert "worker-bulk-0 stopped (exit status -9); stopping everything" in output
    assert group_is_empty(process.pid), "dispatcher dev left processes behind"
