"""``dispatcher demo``: the whole pipeline on one machine, with no set-up and no credentials.

Starts the provider simulator, one Celery worker and beat (under a random Redis key prefix, so no
other data is touched), sends a campaign of SMS and a few voice codes through ``Dispatcher``, shows
progress, prints the final count per state and how many provider requests carried them, then
stops everything it started and deletes its keys.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click
import redis

from dispatcher.models.revicom import RevicomSms, RevicomVoiceCode
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.store.states import FINAL_STATES, QUEUED, SENDING

CAMPAIGN_SIZE = 3000
VOICE_CODES = 5
#: The demo gives up waiting after this long (the pipeline normally needs a few seconds).
FINISH_TIMEOUT_S = 60.0
PROCESS_READY_TIMEOUT_S = 30.0
REVICOM_SEND_PATH = "/revicom/api/v1/message"


def _demo_credentials() -> dict[str, str]:
    """Throw-away credentials shared by the simulator and the pipeline of this run only."""
    key = f"demo{secrets.token_hex(3)}:{secrets.token_urlsafe(12)}"
    return {
        "DISPATCHER_REVICOM_TOKEN": base64.b64encode(key.encode()).decode(),
        "DISPATCHER_SMARTSWITCH_LOGIN": f"demo{secrets.token_hex(3)}",
        "DISPATCHER_SMARTSWITCH_PASSWORD": secrets.token_urlsafe(12),
        "DISPATCHER_BSG_API_KEY": f"live_{secrets.token_hex(16)}",
    }


def pipeline_commands(schedule_path: Path, *, concurrency: int) -> dict[str, list[str]]:
    """How a worker and beat start (workers/app.py); ready when their log shows the marker."""
    celery = [sys.executable, "-m", "celery", "-A", "workers"]
    return {
        "worker": [
            *celery, "worker", "-Q", "transactional,bulk", "-P", "threads", "-c", str(concurrency),
            "-n", f"demo{secrets.token_hex(3)}@%h", "--without-gossip", "--without-mingle",
            "--loglevel", "INFO",
        ],
        "beat": [*celery, "beat", "-s", str(schedule_path), "--max-interval", "1", "--loglevel", "INFO"],
    }  # fmt: skip


_READY_MARKERS = {"worker": b" ready.", "beat": b"beat: Starting"}


@contextmanager
def running_pipeline(
    env: Mapping[str, str], log_dir: Path, *, workers: int = 1, concurrency: int = 8
) -> Iterator[None]:
    """``workers`` worker processes and one beat with ``env``, ready on entry, stopped on exit."""
    with ExitStack() as stack:
        for index in range(workers + 1):
            commands = pipeline_commands(log_dir / "beat-schedule", concurrency=concurrency)
            name = "worker" if index < workers else "beat"
            log_path = log_dir / f"{name}-{index}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    commands[name], env=dict(env), stdout=log, stderr=subprocess.STDOUT
                )
            stack.callback(_stop, process)
            _wait_ready(process, log_path, _READY_MARKERS[name])
        yield


def _wait_ready(process: subprocess.Popen[bytes], log_path: Path, marker: bytes) -> None:
    deadline = time.monotonic() + PROCESS_READY_TIMEOUT_S
    while marker not in log_path.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise click.ClickException(
                f"{log_path.stem} did not start; its log:\n{log_path.read_text(errors='replace')[-2000:]}"
            )
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def delete_keys(client: redis.Redis, prefix: str) -> None:
    """Every key of the deployment ``prefix`` (the store's and Celery's)."""
    doomed = list(client.scan_iter(match=f"{{{prefix}}}:*", count=5000))
    for start in range(0, len(doomed), 5000):
        client.unlink(*doomed[start : start + 5000])


def _recipients(count: int) -> Iterator[dict[str, str]]:
    names = ("Ann", "Boris", "Chen", "Dana", "Emil")
    for index in range(count):
        yield {"phone": f"7916{index:07d}", "name": names[index % len(names)], "code": f"S{index:05d}"}


def _show_progress(counts: Mapping[str, int], started: float) -> None:
    shown = ", ".join(f"{state} {count}" for state, count in counts.items() if count and state != "total")
    click.echo(f"  {time.monotonic() - started:5.1f} s  {shown}")


def _run(dispatcher: Dispatcher, simulator: SimulatorClient) -> None:
    template = MessageTemplate(
        RevicomSms, {"sender_name": "SHOP", "text": "Hello {name}, your spring discount code is {code}"}
    )
    started = time.monotonic()
    campaign_id = dispatcher.campaign(template, _recipients(CAMPAIGN_SIZE))
    click.echo(f"Campaign {campaign_id}: {CAMPAIGN_SIZE} SMS accepted in {time.monotonic() - started:.2f} s")
    codes = [
        dispatcher.send(
            RevicomVoiceCode.from_code(destination=f"4420794609{index:02d}", brand="Shop", code="4321")
        )
        for index in range(VOICE_CODES)
    ]
    click.echo(f"{VOICE_CODES} voice codes sent one by one (transactional lane: never behind the campaign)")

    counts = dispatcher.campaign_status(campaign_id)
    while counts[QUEUED] + counts[SENDING] > 0 and time.monotonic() - started < FINISH_TIMEOUT_S:
        _show_progress(counts, started)
        time.sleep(0.5)
        counts = dispatcher.campaign_status(campaign_id)
    _show_progress(counts, started)

    click.echo("\nFinal count per state:")
    for state, count in counts.items():
        if count and state != "total":
            click.echo(f"  campaign     {state:<10} {count}")
    code_states = [status.state if status else "?" for status in map(dispatcher.status, codes)]
    for state in sorted(set(code_states)):
        click.echo(f"  voice codes  {state:<10} {code_states.count(state)}")
    posts = [entry for entry in simulator.requests(path=REVICOM_SEND_PATH) if entry["method"] == "POST"]
    sent = CAMPAIGN_SIZE + VOICE_CODES
    click.echo(
        f"\nProvider requests made: {len(posts)} for {sent} messages (from the simulator's request log)"
    )
    unfinished = counts[QUEUED] + counts[SENDING]
    if unfinished or not set(code_states) <= FINAL_STATES | {"submitted"}:
        raise click.ClickException(f"{unfinished} messages still waiting after {FINISH_TIMEOUT_S:g} s")


@click.command()
def demo() -> None:
    """Send a campaign and voice codes through the whole pipeline, against the simulator.

    \b
    Uses the Redis of DISPATCHER_REDIS_URL (`make demo` finds or starts one) under a random key
    prefix, deleted afterwards. Example:
      dispatcher demo
    """
    redis_url = os.environ.get("DISPATCHER_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            f"Redis at DISPATCHER_REDIS_URL does not answer ({type(exc).__name__})"
        ) from None
    prefix = f"demo{secrets.token_hex(4)}"
    credentials = _demo_credentials()
    os.environ.update(credentials)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="dispatcher-demo-") as log_dir,
            running_simulator(credentials) as simulator_url,
        ):
            env = {
                **os.environ,
                "DISPATCHER_REDIS_URL": redis_url,
                "DISPATCHER_KEY_PREFIX": prefix,
                "DISPATCHER_SIMULATOR_URL": simulator_url,
            }
            click.echo(f"Simulator at {simulator_url}; Redis keys under {{{prefix}}}:")
            click.echo("Starting one Celery worker and beat ...")
            with running_pipeline(env, Path(log_dir)):
                settings = Settings(redis_url=redis_url, key_prefix=prefix, simulator_url=simulator_url)
                simulator = SimulatorClient(simulator_url)
                with Dispatcher.from_settings(settings) as dispatcher:
                    _run(dispatcher, simulator)
                simulator.close()
            click.echo("Stopped the worker, beat and simulator.")
    finally:
        delete_keys(client, prefix)
        client.close()
