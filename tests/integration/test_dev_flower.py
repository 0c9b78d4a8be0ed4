"""Flower in the `dispatcher dev` stack, seen through headless Chromium: both workers and the
pipeline's tasks on its pages (a screenshot is kept in test-artifacts/), then Ctrl-C (SIGINT) stops
everything. Skipped, saying what to install, where Chromium is missing."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.integration.test_dev_stack import (
    FLOWER_PASSWORD,
    group_is_empty,
    serving_env,
    start_serving,
    started,
)

__all__ = ["started"]  # a fixture used by name
pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def chromium(url: str, *args: str) -> str:
    """The page's DOM after its scripts ran (Flower's tables load by XHR)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--virtual-time-budget=8000",
        *args,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install -y chromium)"
)
def test_flower_shows_both_workers_and_the_send_tasks(
    redis_url: str, key_prefix: str, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    env = serving_env(redis_url, key_prefix, tmp_path / "state")
    process, ports = start_serving(env, tmp_path / "dev.log", started)
    send = [sys.executable, "-m", "dispatcher", "send", "sms", "--to", "79161234567", "--sender", "SHOP"]
    subprocess.run([*send, "--text", "Hello"], env=env, check=True, timeout=60, capture_output=True)
    flower = f"http://ops:{FLOWER_PASSWORD}@127.0.0.1:{ports['flower']}"
    deadline = time.monotonic() + 30
    while "dispatcher.dispatch" not in requests.get(f"{flower}/api/tasks", timeout=10).text:
        assert time.monotonic() < deadline, "Flower never saw a dispatch task"
        time.sleep(0.5)

    workers_page = chromium(f"{flower}/workers", "--dump-dom")
    tasks_page = chromium(f"{flower}/tasks", "--dump-dom")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "flower-tasks.png"
    screenshot.unlink(missing_ok=True)
    chromium(f"{flower}/tasks", "--window-size=1400,900", f"--screenshot={screenshot}")
    process.send_signal(signal.SIGINT)
    returncode = process.wait(timeout=60)

    assert "transactional" in workers_page
    assert "bulk" in workers_page
    assert "Online" in workers_page
    assert "dispatcher.dispatch" in tasks_page
    assert "dispatcher.tick" in tasks_page
    assert screenshot.stat().st_size > 10_000
    assert returncode == 0
    assert group_is_empty(process.pid), "dispatcher dev left processes behind"
