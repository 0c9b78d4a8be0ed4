"""The Celery application, configured by ``dispatcher.taskqueue.celery_config`` (the same
configuration producers use to send tasks), plus beat's schedule.

Start workers with ``celery -A workers worker -Q transactional,bulk`` and one beat with
``celery -A workers beat``.
"""

from __future__ import annotations

from celery import Celery, signals

from dispatcher.logs import install_json_logging
from dispatcher.metrics.server import serve_metrics
from dispatcher.settings import load_settings
from dispatcher.taskqueue import TICK_TASK, TRANSACTIONAL_QUEUE, celery_config

#: Beat's tick: releases due retries and reclaims stuck batches within about this long.
TICK_INTERVAL_S = 1.0


def create_app() -> Celery:
    settings = load_settings()
    app = Celery("dispatcher", include=["workers.tasks"])
    app.conf.update(celery_config(settings))
    if settings.log_format == "json":
        # Connected, this signal replaces Celery's own logging set-up in workers and beat.
        signals.setup_logging.connect(lambda **_: install_json_logging(), weak=False)
    # The worker's tasks run in threads of its main process, where worker_init fires; beat runs once,
    # so it alone serves the store's metrics (two would double them in a sum).
    signals.worker_init.connect(lambda **_: serve_metrics(settings, with_store=False), weak=False)
    signals.beat_init.connect(lambda **_: serve_metrics(settings, with_store=True), weak=False)
    app.conf.beat_schedule = {
        "tick": {
            "task": TICK_TASK,
            "schedule": TICK_INTERVAL_S,
            # On the transactional queue, which long bulk work never fills. No ``expires``: Celery
            # stamps it with beat's clock and checks it with the worker's, so a beat whose clock is
            # behind the workers' would have every tick refused as expired. A tick that waited in
            # the queue finds its work done (or does it): ticks hold a lease and are idempotent.
            "options": {"queue": TRANSACTIONAL_QUEUE},
        }
    }
    return app


app = create_app()
