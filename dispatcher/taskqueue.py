"""The Celery side of the pipeline that producers share with workers: task names, queues, the
Celery configuration and ``kick`` (docs/pipeline.md §4).

Producers build a client app from ``celery_config`` and never import ``workers``; workers build
their app from the same function, so both agree on the broker, the key prefix and the serializer.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, Protocol

from dispatcher.broker import broker_config
from dispatcher.settings import Settings

log = logging.getLogger(__name__)

DISPATCH_TASK = "dispatcher.dispatch"
TICK_TASK = "dispatcher.tick"
RECONCILE_TASK = "dispatcher.reconcile"

TRANSACTIONAL_QUEUE = "transactional"
BULK_QUEUE = "bulk"
PRIORITY_CLASSES = (TRANSACTIONAL_QUEUE, BULK_QUEUE)


class TaskSender(Protocol):
    """What ``kick`` needs of a Celery app: ``Celery.send_task``."""

    def send_task(self, name: str, args: Any = None, **options: Any) -> Any: ...


class RunnerLeases(Protocol):
    """The part of ``dispatcher.store.Store`` that ``kick`` uses."""

    def claim_runner(self, lane: str, *, max_runners: int, lease_s: float) -> str | None: ...

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


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration of a deployment (``Celery(...).conf.update(celery_config(s))``)."""
    return {
        **broker_config(settings),
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


def kick(store: RunnerLeases, sender: TaskSender, lane: str, settings: Settings) -> bool:
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


#: What ``try_kick`` did: sent a task, found every runner slot taken, or failed (and logged it).
Kicked = Literal["sent", "full", "failed"]


def try_kick(store: RunnerLeases, sender: TaskSender, lane: str, settings: Settings) -> Kicked:
    """``kick``, where the messages are stored already: a failure (broker or Redis away) is logged
    and left to beat, which kicks every lane with waiting messages each second. Work after a store
    never turns stored messages into a reported failure."""
    try:
        return "sent" if kick(store, sender, lane, settings) else "full"
    except Exception as exc:  # whatever refused, the messages wait safely in their lane
        log.warning("lane %s not kicked (%s); beat will start it", lane, type(exc).__name__)
        return "failed"
