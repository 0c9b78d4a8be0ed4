"""The dispatch task's loop: take batches from one lane and send them until the lane is empty or
paused or the task's time slice is over (docs/pipeline.md §4)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from dispatcher.pipeline.policy import linger_s, take_size
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.sender import send_batch
from dispatcher.taskqueue import kick, split_lane

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    lane: str
    batches: int = 0
    requests: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    #: Why the loop ended: ``empty``, ``paused`` or ``slice``.
    stopped: str = ""
    kicked: bool = False


def run_dispatch(runtime: Runtime, lane: str, token: str) -> DispatchReport:
    """Work ``lane`` under the runner lease ``token``; the lease is released on the way out, and the
    lane kicked again if messages still wait (the slice ended, or some arrived meanwhile)."""
    settings, store = runtime.settings, runtime.store
    max_size = take_size(runtime.lane_account(lane))
    linger = linger_s(
        split_lane(lane)[1], bulk_s=settings.bulk_linger_s, transactional_s=settings.transactional_linger_s
    )
    slice_ends = runtime.clock() + settings.dispatch_slice_s
    report = DispatchReport(lane)
    try:
        report.stopped = _drain(
            runtime, lane, token, max_size=max_size, linger=linger, until=slice_ends, report=report
        )
    finally:
        store.release_runner(lane, token)
    if report.stopped != "paused" and store.lane_paused(lane) is None and store.lane_depth(lane) > 0:
        report.kicked = kick(store, runtime.tasks, lane, settings, now=runtime.clock())
    log.info(
        "lane %s: %d batches, %d requests, %s, stopped: %s",
        lane,
        report.batches,
        report.requests,
        dict(report.counts),
        report.stopped,
    )
    return report


def _drain(
    runtime: Runtime,
    lane: str,
    token: str,
    *,
    max_size: int,
    linger: float,
    until: float,
    report: DispatchReport,
) -> str:
    settings, store = runtime.settings, runtime.store
    while True:
        if store.lane_paused(lane) is not None:
            return "paused"
        if runtime.clock() >= until:
            return "slice"
        if linger > 0 and store.lane_depth(lane) < max_size:
            # A short wait lets single sends arriving together leave in one request (DESIGN §3).
            runtime.sleep(linger)
        batch = store.take_batch(
            lane,
            max_size=max_size,
            worker=runtime.worker,
            now=runtime.clock(),
            take_timeout_s=settings.take_timeout_s,
        )
        if batch is None:
            return "empty"
        sent = send_batch(runtime, batch)
        report.batches += 1
        report.requests += sent.requests
        report.counts.update(sent.counts)
        if sent.lane_paused:
            return "paused"
        store.renew_runner(lane, token, lease_s=settings.runner_lease_s, now=runtime.clock())
