"""``dispatcher dev``: the whole stack on one machine, stopped together on Ctrl-C.

Redis (found or embedded), the simulator as every provider (throw-away credentials), the API (with
delivery callbacks wired to it, so messages become ``delivered``), a transactional and a bulk
worker, beat and Flower. ``--demo`` runs the demo on it and stops everything afterwards.
"""

from __future__ import annotations

import os
import secrets
import signal
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import click
import redis

from dispatcher.cli.demo import run_demo
from dispatcher.localredis import redis_url_for_local_run
from dispatcher.localstack import (
    Started,
    api_child,
    delete_keys,
    demo_credentials,
    flower_child,
    metrics_url,
    pipeline_children,
    running,
)
from dispatcher.processes import free_port
from dispatcher.producer import Dispatcher
from dispatcher.settings import Settings, load_settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.taskqueue import BULK_QUEUE, TRANSACTIONAL_QUEUE
from dispatcher.webhooks.signing import new_secret

#: Fixed ports for a developer's bookmarks; --demo takes free ones so it runs next to anything.
DEFAULT_PORTS = {"api": 8080, "simulator": 8900, "flower": 5555}
#: How often the running stack checks that its processes still run.
WATCH_INTERVAL_S = 1.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM stops the stack like Ctrl-C: the ExitStack unwinds and stops every child. SIGINT is set
    # too, as Python leaves it ignored when started in the background of a non-interactive shell.
    raise KeyboardInterrupt


def _port(given: int | None, name: str, demo: bool) -> int:
    if given:
        return given
    return free_port() if demo else DEFAULT_PORTS[name]


def _flower_login(settings: Settings) -> tuple[str, str, bool]:
    """User, password and whether they were generated (then shown once, as nobody knows them)."""
    if settings.flower_password is not None:
        return settings.flower_user, settings.flower_password.get_secret_value(), False
    return settings.flower_user, secrets.token_urlsafe(12), True


#: What `dispatcher dev` lets webhooks reach besides public addresses.
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"


@click.command()
@click.option("--demo", is_flag=True, help="Send the demo, wait for final states, print counts, stop.")
@click.option("--api-port", type=click.IntRange(0, 65535), help="[default: 8080; free with --demo]")
@click.option("--simulator-port", type=click.IntRange(0, 65535), help="[default: 8900; free with --demo]")
@click.option("--flower-port", type=click.IntRange(0, 65535), help="[default: 5555; free with --demo]")
def dev(demo: bool, api_port: int | None, simulator_port: int | None, flower_port: int | None) -> None:
    """Start Redis, the simulator, the API, a transactional and a bulk worker, beat and Flower.

    Prints their URLs and runs until Ctrl-C (or SIGTERM), then stops them all. Redis: the one of
    DISPATCHER_REDIS_URL, else 127.0.0.1:6379, else an embedded one. Flower's login: DISPATCHER_FLOWER_USER
    and DISPATCHER_FLOWER_PASSWORD, else generated and printed. With --demo the Redis keys go under a
    random prefix, deleted afterwards.

    \b
    Examples:
      dispatcher dev
      dispatcher dev --demo        # what `make demo` runs
    """
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        _run_stack(demo, api_port, simulator_port, flower_port)
    except KeyboardInterrupt:
        click.echo("\nStopped everything.", err=True)


def _run_stack(demo: bool, api_port: int | None, simulator_port: int | None, flower_port: int | None) -> None:
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_url_for_local_run())
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dispatcher-dev-")))
        prefix = f"demo{secrets.token_hex(4)}" if demo else os.environ.get("DISPATCHER_KEY_PREFIX", "dsp")
        if demo:
            client = redis.Redis.from_url(redis_url)
            stack.callback(client.close)
            stack.callback(delete_keys, client, prefix)
        credentials = demo_credentials()
        simulator_url = stack.enter_context(
            running_simulator(
                credentials, port=_port(simulator_port, "simulator", demo), log_path=log_dir / "simulator.log"
            )
        )
        api_port = _port(api_port, "api", demo)
        env = {
            **os.environ,
            **credentials,
            "DISPATCHER_REDIS_URL": redis_url,
            "DISPATCHER_KEY_PREFIX": prefix,
            "DISPATCHER_SIMULATOR_URL": simulator_url,
            "DISPATCHER_CALLBACK_BASE_URL": f"http://127.0.0.1:{api_port}",
            "DISPATCHER_CALLBACK_SECRET": secrets.token_urlsafe(24),
            # Webhooks to receivers on this machine (refused in production unless allowed).
            "DISPATCHER_WEBHOOK_SECRET": os.environ.get("DISPATCHER_WEBHOOK_SECRET") or new_secret(),
            "DISPATCHER_WEBHOOK_ALLOW_NETWORKS": os.environ.get("DISPATCHER_WEBHOOK_ALLOW_NETWORKS")
            or LOOPBACK_NETWORKS,
        }
        click.echo(f"Logs in {log_dir}; Redis keys under {{{prefix}}}:")
        user, password, generated = _flower_login(load_settings())
        flower_port = _port(flower_port, "flower", demo)
        queues = (TRANSACTIONAL_QUEUE, BULK_QUEUE)
        pipeline = pipeline_children(env, log_dir, queues=queues, events=True, metrics=True)
        children = [
            api_child(env, api_port),
            *pipeline,
            flower_child(env, flower_port, user=user, password=password),
        ]
        started = stack.enter_context(running(children, log_dir))
        login = f" (user {user}, password {password})" if generated else f" (user {user})"
        click.echo(f"Simulator  {simulator_url}  (request log: {simulator_url}/_sim/requests)")
        click.echo(f"API        http://127.0.0.1:{api_port}  (metrics: /metrics)")
        click.echo(f"Flower     http://127.0.0.1:{flower_port}{login}")
        click.echo("Workers    transactional, bulk; beat. Prometheus metrics (beat's include the store's):")
        for child in pipeline:
            click.echo(f"  {child.name:<24} {metrics_url(child)}")
        if demo:
            os.environ.update(env)
            simulator = SimulatorClient(simulator_url)
            stack.callback(simulator.close)
            with Dispatcher.from_settings(load_settings()) as dispatcher:
                run_demo(dispatcher, simulator, with_rcs=True, until_final=True)
            click.echo("Demo done; stopping everything.")
            return
        click.echo("Press Ctrl-C to stop everything.")
        _watch(started, log_dir)


def _watch(started: Started, log_dir: Path) -> None:
    """Return only when a process of the stack has stopped (after saying which, and why); the
    caller then stops the rest: a stack with a dead worker or API only looks alive."""
    while (exited := started.exited()) is None:
        time.sleep(WATCH_INTERVAL_S)
    name, status = exited
    tail = (log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
    click.echo(f"\n{name} stopped (exit status {status}); stopping everything. Its log ends:", err=True)
    click.echo(tail, err=True)
    raise SystemExit(1)
