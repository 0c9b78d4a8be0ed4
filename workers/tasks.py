"""The tasks: thin wrappers that hand their arguments to ``dispatcher.pipeline`` and return a
small summary (visible in Flower)."""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from dispatcher.pipeline.dispatch import run_dispatch
from dispatcher.pipeline.reconcile import reconcile_batch
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.tick import run_tick
from dispatcher.pipeline.timed import RELEASE_TASK, WEBHOOKS_LOCK, WEBHOOKS_TASK, release_scheduled
from dispatcher.settings import load_settings
from dispatcher.taskqueue import DISPATCH_TASK, RECONCILE_TASK, TICK_TASK, try_kick
from dispatcher.webhooks.sender import deliver_due
from workers.app import app

_runtimes: dict[int, Runtime] = {}
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """This process's pipeline runtime, built on first use (after the worker forked, if it does)."""
    with _runtime_lock:
        pid = os.getpid()
        if pid not in _runtimes:
            _runtimes[pid] = Runtime.from_settings(
                load_settings(), tasks=app, worker=f"{socket.gethostname()}:{pid}"
            )
        return _runtimes[pid]


@app.task(name=DISPATCH_TASK)  # type: ignore[untyped-decorator]
def dispatch(lane: str, token: str) -> dict[str, Any]:
    report = run_dispatch(runtime(), lane, token)
    return {
        "lane": lane,
        "batches": report.batches,
        "requests": report.requests,
        "stopped": report.stopped,
        **report.counts,
    }


@app.task(name=TICK_TASK)  # type: ignore[untyped-decorator]
def tick() -> dict[str, int] | None:
    report = run_tick(runtime())
    return (
        None
        if report is None
        else {
            "released": report.released,
            "reclaimed": report.reclaimed,
            "reconciling": report.reconciling,
            "kicked": report.kicked,
        }
    )


@app.task(name=RECONCILE_TASK)  # type: ignore[untyped-decorator]
def reconcile(batch_id: str, lane: str) -> dict[str, Any] | None:
    report = reconcile_batch(runtime(), batch_id)
    return None if report is None else {"batch": batch_id, "lane": lane, **report.counts}


@app.task(name=RELEASE_TASK)  # type: ignore[untyped-decorator]
def release() -> dict[str, int]:
    """Scheduled messages due now, to their lanes at their time (beat asks when one is near)."""
    current = runtime()
    released, expired = release_scheduled(current)
    if released:
        for lane in current.store.lanes_needing_runner():
            try_kick(current.store, current.tasks, lane, current.settings)
    return {"released": released, "expired": expired}


@app.task(name=WEBHOOKS_TASK)  # type: ignore[untyped-decorator]
def webhooks(token: str) -> dict[str, int]:
    current = runtime()
    try:
        report = deliver_due(current.store, current.settings)
    finally:
        current.store.release_runner(WEBHOOKS_LOCK, token)
    return {"delivered": report.delivered, "failed": report.failed}
