"""The Celery shell around ``dispatcher``: app, queues, tasks, beat schedule (DESIGN §8)."""

from workers.app import app

__all__ = ["app"]
