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

from dispatcher import devstack
from dispatcher.cli.demo import run_demo
from dispatcher.cli.failures import fail
from dispatcher.errors import ConfigurationError
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
from dispatcher.processes import free_port, port_is_free
from dispatcher.producer import Dispatcher
from dispatcher.settings import ENV_PREFIX, Settings, load_settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.taskqueue import BULK_QUEUE, TRANSACTIONAL_QUEUE
from dispatcher.webhooks.signing import new_secret

#: The key prefix of a dev stack: its own, never a production deployment's default (`dsp`).
DEV_PREFIX = "dev"
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


@click.group(invoke_without_command=True)
@click.option("--demo", is_flag=True, help="Send the demo, wait for final states, print counts, stop.")
@click.option("--api-port", type=click.IntRange(0, 65535), help="[default: 8080; free with --demo]")
@click.option("--simulator-port", type=click.IntRange(0, 65535), help="[default: 8900; free with --demo]")
@click.option("--flower-port", type=click.IntRange(0, 65535), help="[default: 5555; free with --demo]")
@click.pass_context
def dev(
    context: click.Context,
    demo: bool,
    api_port: int | None,
    simulator_port: int | None,
    flower_port: int | None,
) -> None:
    """Start Redis, the simulator, the API, a transactional and a bulk worker, beat and Flower.

    Prints their URLs and runs until Ctrl-C (or SIGTERM), then stops them all. Redis: the one of
    DISPATCHER_REDIS_URL, else 127.0.0.1:6379, else an embedded one; keys under the prefix `dev`
    (DISPATCHER_KEY_PREFIX to change it). The API key (DISPATCHER_API_KEYS) and Flower's login
    (DISPATCHER_FLOWER_USER, DISPATCHER_FLOWER_PASSWORD) are generated and printed unless given.

    Its settings are written for other terminals (see `dispatcher dev env`): any dispatcher command
    run there without DISPATCHER_* settings uses this stack by itself. It refuses to start when
    another dev stack runs or one of its ports is taken. With --demo it runs the demo on free ports
    under a random key prefix (deleted afterwards) and stops.

    \b
    Examples:
      dispatcher dev
      eval "$(dispatcher dev env)"   # in another terminal: this stack's settings in the shell
      dispatcher dev --demo          # what `make demo` runs
    """
    if context.invoked_subcommand is not None:
        return
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        _run_stack(demo, api_port, simulator_port, flower_port)
    except KeyboardInterrupt:
        click.echo("\nStopped everything.", err=True)


@dev.command("env")
def dev_env() -> None:
    """Print the running dev stack's settings as shell exports.

    \b
    Example:
      eval "$(dispatcher dev env)"
    """
    stack = devstack.read(devstack.state_file())
    if stack is None:
        fail(f"no dispatcher dev is running (nothing in {devstack.state_file()})")
    click.echo(devstack.shell_exports(stack))


def _refuse_a_second_stack(ports: dict[str, int]) -> None:
    """One dev stack per machine: its fixed ports and its settings file are one each."""
    running_stack = devstack.read(devstack.state_file())
    if running_stack is not None:
        raise ConfigurationError(
            f"another dispatcher dev runs (pid {running_stack.pid}; its settings: {running_stack.path}): "
            'stop it first, or use it (`eval "$(dispatcher dev env)"`)'
        )
    for name, port in ports.items():
        if not port_is_free(port):
            raise ConfigurationError(
                f"port {port} ({name}) is taken: stop what listens there, or give --{name}-port"
            )


def _run_stack(demo: bool, api_port: int | None, simulator_port: int | None, flower_port: int | None) -> None:
    settings = load_settings()  # invalid settings are named before anything else is looked at
    with ExitStack() as stack:
        ports = {
            "simulator": _port(simulator_port, "simulator", demo),
            "api": _port(api_port, "api", demo),
            "flower": _port(flower_port, "flower", demo),
        }
        if not demo:
            _refuse_a_second_stack(ports)
        redis_url = stack.enter_context(redis_url_for_local_run())
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dispatcher-dev-")))
        prefix = (
            f"demo{secrets.token_hex(4)}" if demo else os.environ.get("DISPATCHER_KEY_PREFIX", DEV_PREFIX)
        )
        if demo:
            client = redis.Redis.from_url(redis_url)
            stack.callback(client.close)
            stack.callback(delete_keys, client, prefix)
        credentials = demo_credentials()
        simulator_url = stack.enter_context(
            running_simulator(credentials, port=ports["simulator"], log_path=log_dir / "simulator.log")
        )
        api_port = ports["api"]
        api_key = os.environ.get("DISPATCHER_API_KEYS") or secrets.token_urlsafe(24)
        callback_secret = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            **credentials,
            "DISPATCHER_REDIS_URL": redis_url,
            "DISPATCHER_KEY_PREFIX": prefix,
            "DISPATCHER_SIMULATOR_URL": simulator_url,
            "DISPATCHER_CALLBACK_BASE_URL": f"http://127.0.0.1:{api_port}",
            "DISPATCHER_CALLBACK_SECRET": callback_secret,
            "DISPATCHER_API_KEYS": api_key,
            # Webhooks to receivers on this machine (refused in production unless allowed).
            "DISPATCHER_WEBHOOK_SECRET": os.environ.get("DISPATCHER_WEBHOOK_SECRET") or new_secret(),
            "DISPATCHER_WEBHOOK_ALLOW_NETWORKS": os.environ.get("DISPATCHER_WEBHOOK_ALLOW_NETWORKS")
            or LOOPBACK_NETWORKS,
        }
        click.echo(f"Logs in {log_dir}; Redis keys under {{{prefix}}}:")
        user, password, generated = _flower_login(settings)
        flower_port = ports["flower"]
        queues = (TRANSACTIONAL_QUEUE, BULK_QUEUE)
        pipeline = pipeline_children(env, log_dir, queues=queues, events=True, metrics=True)
        children = [
            api_child(env, api_port),
            *pipeline,
            flower_child(env, flower_port, user=user, password=password),
        ]
        started = stack.enter_context(running(children, log_dir))
        api_url = f"http://127.0.0.1:{api_port}"
        # Smartswitch's delivery receipts go to one URL per account, set at the provider: here.
        simulator = SimulatorClient(simulator_url)
        stack.callback(simulator.close)
        simulator.configure(smartswitch_dlr_url=f"{api_url}/v1/callbacks/smartswitch/{callback_secret}")
        login = f" (user {user}, password {password})" if generated else f" (user {user})"
        click.echo(f"Simulator  {simulator_url}  (request log: {simulator_url}/_sim/requests)")
        click.echo(f"API        {api_url}  (metrics: /metrics; key: {api_key})")
        click.echo(f"Flower     http://127.0.0.1:{flower_port}{login}")
        click.echo("Workers    transactional, bulk; beat. Prometheus metrics (beat's include the store's):")
        for child in pipeline:
            click.echo(f"  {child.name:<24} {metrics_url(child)}")
        if demo:
            os.environ.update(env)
            with Dispatcher.from_settings(load_settings()) as dispatcher:
                run_demo(dispatcher, simulator, with_rcs=True, until_final=True)
            click.echo("Demo done; stopping everything.")
            return
        path = devstack.state_file()
        devstack.write(
            path, os.getpid(), {name: value for name, value in env.items() if name.startswith(ENV_PREFIX)}
        )
        stack.callback(devstack.remove, path, os.getpid())
        click.echo(f"Settings   {path}: other terminals' dispatcher commands use this stack by themselves;")
        click.echo('           for curl or Python there: eval "$(dispatcher dev env)"')
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
