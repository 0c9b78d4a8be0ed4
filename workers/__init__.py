"""The Celery shell around ``dispatcher``: app, queues, tasks, beat schedule (docs/architecture.md)."""

from workers.app import app

__all__ = ["app"]
