"""Prometheus metrics (docs/operations.md, Metrics).

- ``events``: what this process did (provider requests and their latency, retries, reconciliations,
  fallbacks, callbacks, rate-limit waits). Each process counts its own; Prometheus sums them.
- ``store``: the store's state, the same whichever process reads it (messages by provider, channel
  and state; lane depths and pauses; what waits for beat). Served by beat, which runs exactly once.
- ``server``: the HTTP endpoint of workers and beat (``DISPATCHER_METRICS_PORT``); the API serves
  ``/metrics`` itself.
"""
