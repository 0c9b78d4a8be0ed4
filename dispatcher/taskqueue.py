"""The Celery side of the pipeline that producers share with workers: task names, queues, the
Celery configuration and ``kick`` (docs/pipeline.md §4).

Producers build a client app from ``celery_config`` and never import ``workers``; workers build
their app from the same function, so both agree on the broker, the key prefix and the serializer.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from dispatcher.settings import Settings

log = logging.getLogger(__name__)

DISPATCH_TASK = "dispatcher.dispatch"
TICK_TASK = "dispatcher.tick"
RECONCILE_TASK = "dispatcher.reconcile"

TRANSACTIONAL_QUEUE = "transactional"
BULK_QUEUE = "bulk"
PRIORITY_CLASSES = (TRANSACTIONAL_QUEUE, BULK_QUEUE)

#: Slack on top of the longest a task may hold its broker message (slice + one HTTP request).
VISIBILITY_MARGIN_S = 60.0


class TaskSender(Protocol):
    """What ``kick`` needs of a Celery app: ``Celery.send_task``."""

    def send_task(self, name: str, args: Any = None, **options: Any) -> Any: ...


class RunnerLeases(Protocol):
    """The part of ``dispatcher.store.Store`` that ``kick`` uses."""

    def claim_runner(self, lane: str, *, max_runners: int, lease_s: float, now: float) -> str | None: ...

    def release_runner(self, lane: str, token: str) -> None: ...


def lane_name(account: str, priority_class: str) -> str:
    if priority_class not in PRIORITY_CLASSES:
        raise ValueError(f"priority class {priority_class!r} is not one of {PRIORITY_CLASSES}")
    return f"{account}:{priority_class}"


def split_lane(lane: str) -> tuple[str, str]:
    """``("revicom", "bulk")`` from ``"revicom:bulk"``."""
    account, _, priority_class = lane.rpartition(":")
    if not account or priority_class not in PRIORITY_CLASSES:
        raise ValueError(f"lane {lane!r} is not <account>:<{'|'.join(PRIORITY_CLASSES)}>")
    return account, priority_class


def queue_for_lane(lane: str) -> str:
    """The Celery queue a lane's dispatch tasks go to: its priority class."""
    return split_lane(lane)[1]


def visibility_timeout_s(settings: Settings) -> float:
    """How long the broker waits for an unacknowledged task before giving it to another worker.

    Above the longest a dispatch task runs (its slice, then at most one more request), so a slow
    task is never handed out twice while it still runs.
    """
    return (
        settings.dispatch_slice_s + settings.connect_timeout_s + settings.read_timeout_s + VISIBILITY_MARGIN_S
    )


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration of a deployment (``Celery(...).conf.update(celery_config(s))``)."""
    return {
        "broker_url": str(settings.redis_url),
        "broker_transport_options": {
            # Every Celery key of this deployment under its prefix: tests and deployments may share
            # one Redis without seeing each other's tasks.
            "global_keyprefix": f"{{{settings.key_prefix}}}:celery:",
            "visibility_timeout": visibility_timeout_s(settings),
        },
        "broker_connection_retry_on_startup": True,
        "task_default_queue": BULK_QUEUE,
        "task_create_missing_queues": True,
        # Acknowledged after it ran: a worker that dies mid-task leaves the task to another.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One task in hand per worker slot: a busy worker must not hoard work others could do.
        "worker_prefetch_multiplier": 1,
        "worker_pool": "threads",
        "worker_concurrency": settings.worker_concurrency,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        "worker_hijack_root_logger": False,
    }


def kick(
    store: RunnerLeases, sender: TaskSender, lane: str, settings: Settings, *, now: float | None = None
) -> bool:
    """Start a dispatch task for ``lane`` unless it already has as many as its class allows
    (``max_runners_per_bulk_lane`` or ``max_runners_per_lane``).

    Returns whether a task was sent. A lease whose task never runs (lost with a dead worker)
    expires by itself after ``runner_lease_s``.
    """
    token = store.claim_runner(
        lane,
        max_runners=(
            settings.max_runners_per_bulk_lane
            if split_lane(lane)[1] == BULK_QUEUE
            else settings.max_runners_per_lane
        ),
        lease_s=settings.runner_lease_s,
        now=time.time() if now is None else now,
    )
    if token is None:
        return False
    try:
        sender.send_task(DISPATCH_TASK, args=[lane, token], queue=queue_for_lane(lane))
    except Exception:
        # The broker refused: free the slot now rather than leave the lane blocked for a lease.
        store.release_runner(lane, token)
        raise
    log.debug("kicked lane %s", lane)
    return True
