"""The dispatch pipeline's logic (docs/pipeline.md): policy (pure decisions), the batch sender, the
dispatch loop, reconciliation and beat's tick. ``workers/`` wraps these in Celery tasks."""
