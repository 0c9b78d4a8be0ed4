"""The Celery application: broker and queues from ``dispatcher.settings``, nothing else.

Workers start as ``celery -A workers worker -Q transactional,bulk``. The tasks arrive with the
dispatch pipeline; this module only fixes the delivery semantics every task relies on.
"""

from __future__ import annotations

from celery import Celery

from dispatcher.settings import load_settings

TRANSACTIONAL_QUEUE = "transactional"
BULK_QUEUE = "bulk"


def create_app() -> Celery:
    settings = load_settings()
    broker_url = str(settings.redis_url)
    app = Celery("dispatcher", broker=broker_url)
    app.conf.update(
        # Workers consume both with `-Q transactional,bulk`; Celery creates the queues on demand.
        task_default_queue=BULK_QUEUE,
        # A task is acknowledged after it ran, so a worker that dies mid-task leaves it to another.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message in hand per worker slot: a busy worker must not hoard batches others could send.
        worker_prefetch_multiplier=1,
        # Keys of this deployment only: the broker shares the Redis with the store.
        broker_transport_options={"global_keyprefix": f"{settings.key_prefix}:celery:"},
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
    )
    return app


app = create_app()
