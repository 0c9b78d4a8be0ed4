"""Prometheus metrics of a dispatcher process (exposed by whoever serves ``prometheus_client``'s
default registry; every worker process has its own counts, Prometheus sums them)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RATE_LIMIT_WAIT_SECONDS = Histogram(
    "dispatcher_rate_limit_wait_seconds",
    "Time a dispatch task slept for an account's permit before a request (0 when granted at once).",
    ["account", "priority_class"],
    buckets=(0.0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25),
)
RATE_LIMIT_HANDBACKS = Counter(
    "dispatcher_rate_limit_handbacks_total",
    "Batches handed back to their lane because the permit was further off than a short wait.",
    ["account", "priority_class", "reason"],
)
RATE_LIMIT_GRANTED_MESSAGES = Counter(
    "dispatcher_rate_limit_granted_messages_total",
    "Messages in requests the limiter granted.",
    ["account", "priority_class"],
)
RATE_LIMIT_BUCKET_USED = Gauge(
    "dispatcher_rate_limit_bucket_used_ratio",
    "Share of the account's messages bucket in use at this process's latest decision (1 = empty bucket).",
    ["account"],
)
RATE_LIMIT_PAUSES = Counter(
    "dispatcher_rate_limit_pauses_total",
    "Provider 429s that paused every lane of the account for its Retry-After.",
    ["account"],
)
