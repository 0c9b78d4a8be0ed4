"""``dispatcher demo``: the whole pipeline on one machine, with no set-up and no credentials.

Starts the provider simulator, one Celery worker and beat (under a random Redis key prefix, so no
other data is touched), sends a campaign of SMS and a few voice codes through ``Dispatcher``, shows
progress, prints the final count per state and how many provider requests carried them, then
stops everything it started and deletes its keys. ``run_demo`` is the scenario; ``dispatcher dev
--demo`` runs it too, against the full stack (with delivery callbacks and RCS).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import click
import redis

from dispatcher.localstack import delete_keys, demo_credentials, running_pipeline
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.revicom import RevicomSms, RevicomVoiceCode
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.producer.extras import SmsFallback
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.store.states import FINAL_STATES, QUEUED, SENDING

CAMPAIGN_SIZE = 3000
VOICE_CODES = 5
RCS_MESSAGES = 4
#: The demo gives up waiting after this long (the pipeline normally needs a few seconds).
FINISH_TIMEOUT_S = 60.0
REVICOM_SEND_PATH = "/revicom/api/v1/message"


def _recipients(count: int) -> Iterator[dict[str, str]]:
    names = ("Ann", "Boris", "Chen", "Dana", "Emil")
    for index in range(count):
        yield {"phone": f"7916{index:07d}", "name": names[index % len(names)], "code": f"S{index:05d}"}


def _show_progress(counts: Mapping[str, int], started: float) -> None:
    shown = ", ".join(f"{state} {count}" for state, count in counts.items() if count and state != "total")
    click.echo(f"  {time.monotonic() - started:5.1f} s  {shown}")


def _send_rcs(dispatcher: Dispatcher, simulator: SimulatorClient) -> list[str]:
    # Each undelivered at BSG with probability 1/2, so the demo shows the SMS fallback taking over.
    simulator.configure(outcomes={"bsg": {"delivered": 1, "undelivered": 1}})
    return [
        dispatcher.send(
            BsgRcs.model_validate(
                {
                    "phone": {"number": f"4479460900{index:02d}"},
                    "sender": "shop_rcs",
                    "options": {"text": "Hi"},
                }
            ),
            fallback=SmsFallback("Your order has shipped", "SHOP", deadline_s=30),
        )
        for index in range(RCS_MESSAGES)
    ]


def run_demo(
    dispatcher: Dispatcher, simulator: SimulatorClient, *, with_rcs: bool, until_final: bool
) -> None:
    """Send the demo's messages, show progress, print the counts; ClickException when some did not
    finish. ``until_final``: wait for delivery reports (callbacks wired), not just for submission."""
    template = MessageTemplate(
        RevicomSms, {"sender_name": "SHOP", "text": "Hello {name}, your spring discount code is {code}"}
    )
    started = time.monotonic()
    campaign_id = dispatcher.campaign(template, _recipients(CAMPAIGN_SIZE))
    click.echo(f"Campaign {campaign_id}: {CAMPAIGN_SIZE} SMS accepted in {time.monotonic() - started:.2f} s")
    singles = {
        "voice codes": [
            dispatcher.send(
                RevicomVoiceCode.from_code(destination=f"4420794609{index:02d}", brand="Shop", code="4321")
            )
            for index in range(VOICE_CODES)
        ]
    }
    click.echo(f"{VOICE_CODES} voice codes sent one by one (transactional lane: never behind the campaign)")
    if with_rcs:
        singles["rcs"] = _send_rcs(dispatcher, simulator)
        click.echo(f"{RCS_MESSAGES} RCS messages with an SMS fallback (BSG fails each with odds 1:1)")

    def waiting(counts: Mapping[str, int]) -> int:
        if until_final:
            return counts["total"] - sum(counts[state] for state in FINAL_STATES)
        return counts[QUEUED] + counts[SENDING]

    def single_states() -> dict[str, list[str]]:
        return {
            kind: [status.state if status else "?" for status in map(dispatcher.status, ids)]
            for kind, ids in singles.items()
        }

    def singles_done() -> bool:
        done = FINAL_STATES if until_final else FINAL_STATES | {"submitted", "sent"}
        return all(set(states) <= done for states in single_states().values())

    counts = dispatcher.campaign_status(campaign_id)
    while (waiting(counts) or not singles_done()) and time.monotonic() - started < FINISH_TIMEOUT_S:
        _show_progress(counts, started)
        time.sleep(0.5)
        counts = dispatcher.campaign_status(campaign_id)
    _show_progress(counts, started)

    click.echo("\nFinal count per state:")
    for state, count in counts.items():
        if count and state != "total":
            click.echo(f"  campaign     {state:<11} {count}")
    for kind, states in single_states().items():
        for state in sorted(set(states)):
            click.echo(f"  {kind:<12} {state:<11} {states.count(state)}")
    if with_rcs:
        fell_back = sum(
            status is not None and status.fallback_id is not None
            for status in map(dispatcher.status, singles["rcs"])
        )
        click.echo(f"  rcs          {fell_back} replaced by their SMS fallback")
    posts = [entry for entry in simulator.requests(path=REVICOM_SEND_PATH) if entry["method"] == "POST"]
    click.echo(f"\nRevicom requests made: {len(posts)} (from the simulator's request log)")
    if waiting(counts) or not singles_done():
        raise click.ClickException(f"messages still waiting after {FINISH_TIMEOUT_S:g} s")


@click.command()
def demo() -> None:
    """Send a campaign and voice codes through the whole pipeline, against the simulator.

    \b
    Uses the Redis of DISPATCHER_REDIS_URL (`make demo` finds or starts one) under a random key
    prefix, deleted afterwards. `dispatcher dev --demo` runs a larger demo on the full stack.
    Example:
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
    credentials = demo_credentials()
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
                    run_demo(dispatcher, simulator, with_rcs=False, until_final=False)
                simulator.close()
            click.echo("Stopped the worker, beat and simulator.")
    finally:
        delete_keys(client, prefix)
        client.close()
