"""The one way to start and stop the local processes: simulator credentials, Celery workers and beat,
the API and Flower. ``dispatcher dev``, ``dispatcher demo`` and the benchmarks all use it.

Every process is a child started with an explicit environment and logs to a file. ``running``
starts a group of them at once (in parallel: the stack is ready in a few seconds), returns when each
is ready (its log shows a marker, or its HTTP port answers) and terminates them all at once on exit,
killing any still running after ``STOP_TIMEOUT_S``.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from dispatcher.errors import ConfigurationError
from dispatcher.processes import free_port, wait_for_http

PROCESS_READY_TIMEOUT_S = 30.0
#: How long every child must stay up once all are ready, before the stack counts as started.
READY_SETTLE_S = 0.3
STOP_TIMEOUT_S = 15.0
CELERY = [sys.executable, "-m", "celery", "-A", "workers"]
#: One worker serving both queues: what the demo and the benchmarks run.
BOTH_QUEUES = ("transactional,bulk",)
_WORKER_READY = b" ready."
_BEAT_READY = b"beat: Starting"
METRICS_PORT_VARIABLE = "DISPATCHER_METRICS_PORT"


def demo_credentials() -> dict[str, str]:
    """Throw-away provider credentials shared by the simulator and the pipeline of one run only."""
    key = f"demo{secrets.token_hex(3)}:{secrets.token_urlsafe(12)}"
    return {
        "DISPATCHER_REVICOM_TOKEN": base64.b64encode(key.encode()).decode(),
        "DISPATCHER_SMARTSWITCH_LOGIN": f"demo{secrets.token_hex(3)}",
        "DISPATCHER_SMARTSWITCH_PASSWORD": secrets.token_urlsafe(12),
        "DISPATCHER_BSG_API_KEY": f"live_{secrets.token_hex(16)}",
    }


def delete_keys(client: redis.Redis, prefix: str) -> None:
    """Every key of the deployment ``prefix`` (the store's and Celery's)."""
    doomed = list(client.scan_iter(match=f"{{{prefix}}}:*", count=5000))
    for start in range(0, len(doomed), 5000):
        client.unlink(*doomed[start : start + 5000])


def worker_command(queues: str, *, concurrency: int, name: str, events: bool = False) -> list[str]:
    """A Celery worker on ``queues`` (comma-separated) with ``concurrency`` threads (workers/app.py).

    ``events``: send task events, which Flower needs to show tasks (off by default: the
    benchmarks measure the pipeline without them).
    """
    return [
        *CELERY, "worker", "-Q", queues, "-P", "threads", "-c", str(concurrency),
        "-n", f"{name}{secrets.token_hex(3)}@%h", "--without-gossip", "--without-mingle",
        "--loglevel", "INFO", *(["--task-events"] if events else []),
    ]  # fmt: skip


def beat_command(schedule_path: Path) -> list[str]:
    return [*CELERY, "beat", "-s", str(schedule_path), "--max-interval", "1", "--loglevel", "INFO"]


@dataclass(frozen=True)
class Child:
    """A process to start: its name (and log file's), command line, environment and readiness check."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    #: Called with the log file's path until true.
    ready: Callable[[Path], bool]


class Started:
    """The children of one ``running`` block, for whoever watches them."""

    def __init__(self, children: Sequence[Child], processes: Sequence[subprocess.Popen[bytes]]) -> None:
        self._pairs = list(zip(children, processes, strict=True))

    def exited(self) -> tuple[str, int] | None:
        """The name and exit status of a child that is no longer running, if any."""
        for child, process in self._pairs:
            status = process.poll()
            if status is not None:
                return child.name, status
        return None


@contextmanager
def running(children: Sequence[Child], log_dir: Path) -> Iterator[Started]:
    """Start every child at once (they start in parallel), wait until all are ready, stop them all
    on exit. Raises ConfigurationError (with the log's end) when one exits or is not ready within
    ``PROCESS_READY_TIMEOUT_S``."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for child in children:
            with (log_dir / f"{child.name}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        list(child.command), env=dict(child.env), stdout=log, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + PROCESS_READY_TIMEOUT_S
        for child, process in zip(children, processes, strict=True):
            log_path = log_dir / f"{child.name}.log"
            while not child.ready(log_path):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise ConfigurationError(f"{child.name} did not start; its log:\n{tail}")
                time.sleep(0.05)
        started = Started(children, processes)
        # Ready means ready by our own processes: one that died (its port taken, say) while another
        # process answered on that port is not a stack that runs.
        time.sleep(READY_SETTLE_S)
        if (exited := started.exited()) is not None:
            name, status = exited
            tail = (log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
            raise ConfigurationError(f"{name} stopped (exit status {status}) as it started; its log:\n{tail}")
        yield started
    finally:
        stop_processes(processes)


def stop_processes(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Terminate all at once (a Celery worker finishes its tasks: warm shutdown); kill those still
    running after ``STOP_TIMEOUT_S``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_shows(marker: bytes) -> Callable[[Path], bool]:
    return lambda log_path: marker in log_path.read_bytes()


def answers(url: str) -> Callable[[Path], bool]:
    def ready(_log_path: Path) -> bool:
        try:
            wait_for_http(url, timeout_s=0)
        except TimeoutError:
            return False
        return True

    return ready


def pipeline_children(
    env: Mapping[str, str],
    log_dir: Path,
    *,
    workers: int = 1,
    concurrency: int = 8,
    queues: Sequence[str] = BOTH_QUEUES,
    events: bool = False,
    metrics: bool = False,
) -> list[Child]:
    """``workers`` worker processes per entry of ``queues`` (comma-separated queue names) and one beat;
    ``events``: as for ``worker_command``; ``metrics``: each serves its metrics on a free port
    (``metrics_url`` tells where)."""

    def child(name: str, command: Sequence[str], marker: bytes) -> Child:
        # On loopback: a local stack's metrics are for this machine's user only.
        served = {METRICS_PORT_VARIABLE: str(free_port()), "DISPATCHER_METRICS_ADDRESS": "127.0.0.1"}
        child_env = {**env, **served} if metrics else env
        return Child(name, command, child_env, log_shows(marker))

    children = []
    for queue_set in queues:
        label = queue_set.replace(",", "-")
        command = worker_command(queue_set, concurrency=concurrency, name=label.split("-")[0], events=events)
        children += [child(f"worker-{label}-{index}", command, _WORKER_READY) for index in range(workers)]
    return [*children, child("beat", beat_command(log_dir / "beat-schedule"), _BEAT_READY)]


def metrics_url(child: Child) -> str | None:
    """Where a child of ``pipeline_children(metrics=True)`` serves its Prometheus metrics."""
    port = child.env.get(METRICS_PORT_VARIABLE)
    return f"http://127.0.0.1:{port}/metrics" if port else None


@contextmanager
def running_pipeline(
    env: Mapping[str, str], log_dir: Path, *, workers: int = 1, concurrency: int = 8
) -> Iterator[None]:
    """``workers`` workers on both queues and one beat, with ``env``; ready on entry, stopped on exit."""
    with running(pipeline_children(env, log_dir, workers=workers, concurrency=concurrency), log_dir):
        yield


def api_child(env: Mapping[str, str], port: int) -> Child:
    """``dispatcher api`` on ``port`` (``env`` needs DISPATCHER_CALLBACK_SECRET)."""
    command = [sys.executable, "-m", "dispatcher", "api", "--port", str(port), "--log-level", "warning"]
    return Child("api", command, env, answers(f"http://127.0.0.1:{port}/healthz"))


def flower_child(env: Mapping[str, str], port: int, *, user: str, password: str) -> Child:
    """Flower on the deployment's broker, behind basic auth."""
    # Through the environment, not the command line: the password stays out of `ps`.
    flower_env = {**env, "FLOWER_BASIC_AUTH": f"{user}:{password}"}
    command = [*CELERY, "flower", "--address=127.0.0.1", f"--port={port}"]
    return Child("flower", command, flower_env, answers(f"http://127.0.0.1:{port}/healthcheck"))
