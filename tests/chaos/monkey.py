"""The chaos itself: rounds of faults at random moments, all drawn from one seeded ``random.Random``.

In a round, at random offsets: provider faults through the simulator's control API (hangs past the
read timeout, before or after the provider acted; dropped connections, before or after; 500, 502,
503, 429; slow answers; on sends, on the reconciliation look-ups and on BSG's login), ``kill -9``
of Celery workers, of beat, of Redis (restarted from its append-only file), Redis stalls (every
client paused, or the server itself blocked), Redis at its maxmemory, every client connection cut,
a worker's SIGTERM (warm shutdown) mid-drain, and duplicate and late delivery callbacks. A worker
or beat that was killed or stopped is replaced at once, in the background, so the round goes on
while it starts. Where libfaketime is installed, the workers' clocks are off (100 s behind, 30 s
ahead, in turn) and so is beat's (100 s behind).
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dispatcher.simulator.client import SimulatorClient
from tests.chaos.callbacks import CallbackReplayer
from tests.clock_skew import libfaketime, skewed_env
from tests.integration.worker_fixtures import FAST_PIPELINE_ENV, PipelineProcesses
from tests.redis_servers import RestartableRedis

REVICOM_MESSAGES = "/revicom/api/v1/message"
BSG_SEND = "/bsg/api/messages/rcs/send"
BSG_MESSAGES = "/bsg/api/messages"
BSG_LOGIN = "/bsg/api/auth/login"
READ_TIMEOUT_S = float(FAST_PIPELINE_ENV["DISPATCHER_READ_TIMEOUT_S"])
WORKER_CONCURRENCY = 6
#: Clock offsets of the workers, in turn, and of beat (where libfaketime is installed).
WORKER_CLOCKS_S = (-100, 30)
BEAT_CLOCK_S = -100
#: How long Redis stalls or stays full per fault; stalls reach 12 s at full scale.
STALL_S = (2.0, 5.0)
FULL_SCALE_STALL_S = (2.0, 12.0)
FULL_S = (2.0, 6.0)
#: A worker sent SIGTERM finishes its tasks (a slice and one request) and exits within this long.
STOP_TIMEOUT_S = 60.0

Fault = tuple[str, dict[str, Any]]


def _send_fault(rng: random.Random, path: str) -> Fault:
    """A fault on a request that creates messages: the ambiguous kinds (the provider may have acted)
    come both before and after the provider processed the request."""
    label = rng.choice(
        [
            "hang",
            "hang_after_processing",
            "drop",
            "drop_after_processing",
            "http_500",
            "http_502",
            "http_503",
            "http_429",
            "latency",
        ]
    )
    fields: dict[str, Any] = {"path": path, "method": "POST"}
    if label.startswith(("hang", "drop")):
        kind = label.split("_", maxsplit=1)[0]
        fields.update(kind=kind, after_processing=label.endswith("after_processing"))
        if kind == "hang":
            # Past the workers' read timeout: they give up, the simulator answers (or not) later.
            fields["seconds"] = round(rng.uniform(READ_TIMEOUT_S + 0.3, READ_TIMEOUT_S + 1.5), 2)
    elif label == "http_429":
        fields.update(kind="rate_limit", retry_after=rng.choice([0.5, 1, 2]))
    elif label == "latency":
        fields.update(kind="latency", seconds=round(rng.uniform(0.2, 1.0), 2))
    else:
        fields.update(kind="status", status=int(label[-3:]))
    return label, fields


def _lookup_fault(rng: random.Random, path: str) -> Fault:
    """A fault on a reconciliation look-up (GET: nothing to act on, so no after-processing kinds)."""
    label = rng.choice(["hang", "drop", "http_500", "http_503"])
    fields: dict[str, Any] = {"path": path, "method": "GET"}
    if label == "hang":
        fields.update(kind="hang", seconds=round(READ_TIMEOUT_S + 0.5, 2))
    elif label == "drop":
        fields.update(kind="drop")
    else:
        fields.update(kind="status", status=int(label[-3:]))
    return f"lookup_{label}", fields


def _login_fault(rng: random.Random) -> Fault:
    """BSG's login refused or cut off: a worker started after a kill must log in again."""
    label = rng.choice(["http_503", "drop"])
    fields: dict[str, Any] = {"path": BSG_LOGIN, "method": "POST"}
    fields.update({"kind": "drop"} if label == "drop" else {"kind": "status", "status": 503})
    return f"login_{label}", fields


FAULT_MENU: list[tuple[float, Callable[[random.Random], Fault]]] = [
    (0.45, lambda rng: _send_fault(rng, REVICOM_MESSAGES)),
    (0.30, lambda rng: _send_fault(rng, BSG_SEND)),
    (0.10, lambda rng: _lookup_fault(rng, REVICOM_MESSAGES)),
    (0.10, lambda rng: _lookup_fault(rng, BSG_MESSAGES)),
    (0.05, _login_fault),
]


def random_fault(rng: random.Random) -> Fault:
    weights = [weight for weight, _ in FAULT_MENU]
    make = rng.choices([make for _, make in FAULT_MENU], weights=weights)[0]
    label, fields = make(rng)
    # A few requests each, at random among the matching ones: faults land all over the round.
    fields.update(count=rng.randint(1, 3), probability=0.5)
    return label, fields


@dataclass
class ChaosFigures:
    faults: Counter[str] = field(default_factory=Counter)
    worker_kills: int = 0
    worker_sigterms: int = 0
    beat_kills: int = 0
    redis_restarts: int = 0
    redis_down_s: list[float] = field(default_factory=list)
    redis_stalls_s: list[float] = field(default_factory=list)
    redis_blocks_s: list[float] = field(default_factory=list)
    redis_full_s: list[float] = field(default_factory=list)
    connection_drops: int = 0
    #: Processes that exited without being killed (exit codes), replaced as a supervisor would.
    worker_exits: list[int] = field(default_factory=list)
    beat_exits: list[int] = field(default_factory=list)


class ChaosMonkey:
    def __init__(
        self,
        rng: random.Random,
        sim: SimulatorClient,
        pipeline: PipelineProcesses,
        redis_server: RestartableRedis,
        callbacks: CallbackReplayer,
        *,
        workers: int,
        stall_s: tuple[float, float] = STALL_S,
    ) -> None:
        self.rng = rng
        self.sim = sim
        self.pipeline = pipeline
        self.redis = redis_server
        self.callbacks = callbacks
        self.figures = ChaosFigures()
        self._worker_count = workers
        self._stall_s = stall_s
        self._skewed = libfaketime() is not None
        self._started_workers = 0
        #: Workers sent SIGTERM: each must finish its tasks and exit 0 (checked by ``close``).
        self._stopping: list[subprocess.Popen[bytes]] = []
        self._workers: list[subprocess.Popen[bytes]] = []
        self._beat: subprocess.Popen[bytes] | None = None
        # Starting a worker takes seconds (Celery imports); the round goes on meanwhile. One thread
        # only: PipelineProcesses names a log after its process count, so two processes started at
        # once could share one log (and one "ready" line).
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chaos-start")
        self._starting: list[Future[subprocess.Popen[bytes]]] = []
        self._beat_starting: Future[subprocess.Popen[bytes]] | None = None

    @property
    def clocks(self) -> dict[str, object]:
        """The clock offsets in use (empty where libfaketime is not installed)."""
        return {"workers_s": list(WORKER_CLOCKS_S), "beat_s": BEAT_CLOCK_S} if self._skewed else {}

    def start(self) -> None:
        for _ in range(self._worker_count):
            self._start_worker()
        self._start_beat()
        self._collect(wait=True)

    def run_round(self, duration_s: float, *, kill_beat: bool, restart_redis: bool) -> None:
        """One round: its events at random offsets in ``[0, duration_s)``, in time order."""
        events: list[tuple[float, Callable[[], None]]] = []
        events += [(self._at(duration_s), self.inject_fault) for _ in range(self.rng.randint(4, 8))]
        events += [(self._at(duration_s), self.kill_worker) for _ in range(self.rng.randint(1, 2))]
        events += [(self._at(duration_s), self.garble_callbacks) for _ in range(2)]
        events.append((self._at(duration_s), self.rng.choice([self.stall_redis, self.block_redis])))
        events.append((self._at(duration_s), self.fill_redis))
        events.append((self._at(duration_s), self.drop_connections))
        events.append((self._at(duration_s), self.stop_worker))
        if kill_beat:
            events.append((self._at(duration_s), self.kill_beat))
        if restart_redis:
            events.append((self._at(duration_s), self.restart_redis))
        started = time.monotonic()
        for at, action in sorted(events, key=lambda event: event[0]):
            time.sleep(max(0.0, started + at - time.monotonic()))
            self.supervise()
            action()
        time.sleep(max(0.0, started + duration_s - time.monotonic()))

    def _at(self, duration_s: float) -> float:
        return self.rng.uniform(0, duration_s)

    def inject_fault(self) -> None:
        label, fields = random_fault(self.rng)
        self.sim.add_fault(**fields)
        self.figures.faults[label] += 1

    def kill_worker(self) -> None:
        if not self._workers:
            self._collect(wait=True)  # every worker is still starting: kill one once it is up
        victim = self._workers.pop(self.rng.randrange(len(self._workers)))
        self.pipeline.kill(victim)
        self.figures.worker_kills += 1
        self._start_worker()

    def stop_worker(self) -> None:
        """SIGTERM: a warm shutdown, as a deployment scaling down does; its replacement starts now."""
        if not self._workers:
            self._collect(wait=True)
        stopped = self._workers.pop(self.rng.randrange(len(self._workers)))
        stopped.send_signal(signal.SIGTERM)
        self._stopping.append(stopped)
        self.figures.worker_sigterms += 1
        self._start_worker()

    def kill_beat(self) -> None:
        self._collect(wait=True)  # a beat still starting cannot be killed yet
        assert self._beat is not None
        self.pipeline.kill(self._beat)
        self._beat = None
        self.figures.beat_kills += 1
        self._start_beat()

    def restart_redis(self) -> None:
        down_s = self.redis.crash_and_restart(down_s=self.rng.uniform(0.2, 1.5))
        self.figures.redis_restarts += 1
        self.figures.redis_down_s.append(round(down_s, 2))

    def stall_redis(self) -> None:
        """Every client's commands wait (CLIENT PAUSE ALL)."""
        seconds = self.rng.uniform(*self._stall_s)
        self.redis.stall(seconds)
        self.figures.redis_stalls_s.append(round(seconds, 2))

    def block_redis(self) -> None:
        """The server does nothing (DEBUG SLEEP); what arrives meanwhile runs afterwards."""
        seconds = self.rng.uniform(*self._stall_s)
        self.redis.block(seconds)
        self.figures.redis_blocks_s.append(round(seconds, 2))

    def fill_redis(self) -> None:
        """Redis at its maxmemory for a few seconds: every write that needs memory is refused."""
        seconds = self.rng.uniform(*FULL_S)
        self.redis.full_for(seconds)
        self.figures.redis_full_s.append(round(seconds, 2))

    def drop_connections(self) -> None:
        """Every client connection cut at once: broker consumers, store clients, the API's."""
        self.redis.drop_connections()
        self.figures.connection_drops += 1

    def garble_callbacks(self) -> None:
        self.callbacks.read_log()
        self.callbacks.redeliver()
        self.callbacks.duplicate(self.rng.randint(10, 40))
        self.callbacks.send_late(self.rng.randint(10, 40))

    def calm(self) -> None:
        """No more faults: the pipeline is left to settle with every worker and beat running."""
        self.sim.clear_faults()
        self.supervise(wait=True)

    def supervise(self, *, wait: bool = False) -> None:
        """Replace a worker or beat that exited on its own, as the deployment's supervisor does
        (docker compose ``restart: unless-stopped``, Kubernetes); each exit is counted, and the
        test fails on any: every process started must still run at the end unless the test killed
        or stopped it."""
        self._collect(wait=wait)
        for worker in [worker for worker in self._workers if worker.poll() is not None]:
            self._workers.remove(worker)
            self.figures.worker_exits.append(worker.returncode)
            self._start_worker()
        if self._beat is not None and self._beat.poll() is not None:
            self.figures.beat_exits.append(self._beat.returncode)
            self._beat = None
            self._start_beat()
        if wait:
            self._collect(wait=True)

    def close(self) -> None:
        """Wait for the workers stopped with SIGTERM; one that did not exit cleanly is counted as an
        exit of its own."""
        self._starter.shutdown(wait=True)
        for stopped in self._stopping:
            try:
                code = stopped.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                code = -1
            if code != 0:
                self.figures.worker_exits.append(code)

    def _start_worker(self) -> None:
        clock = WORKER_CLOCKS_S[self._started_workers % len(WORKER_CLOCKS_S)]
        env = skewed_env(clock) if self._skewed else None
        self._started_workers += 1
        self._starting.append(
            self._starter.submit(lambda: self.pipeline.start_worker(concurrency=WORKER_CONCURRENCY, env=env))
        )

    def _start_beat(self) -> None:
        env = skewed_env(BEAT_CLOCK_S) if self._skewed else None
        self._beat_starting = self._starter.submit(lambda: self.pipeline.start_beat(env=env))

    def _collect(self, *, wait: bool) -> None:
        """Take in the processes that finished starting (all of them with ``wait``); a process that
        could not start fails the test here."""
        for future in list(self._starting):
            if wait or future.done():
                self._workers.append(future.result())
                self._starting.remove(future)
        if self._beat_starting is not None and (wait or self._beat_starting.done()):
            self._beat = self._beat_starting.result()
            self._beat_starting = None
