"""What this process did, as Prometheus metrics in ``prometheus_client``'s default registry (served by
``dispatcher.metrics.server`` in workers and beat, by ``/metrics`` in the API). Every process counts
its own; Prometheus sums them over the ``instance`` label.

Labels are bounded: account and provider names from the providers file, priority classes, error
class names (``dispatcher.errors``), fixed outcome words. Never a message id, a number or a reason text.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- provider requests (dispatcher.pipeline.sender) ---
PROVIDER_REQUEST_SECONDS = Histogram(
    "dispatcher_provider_request_seconds",
    "Provider requests by outcome ('ok', or the error class: ResponseTimedOut, RateLimited, ...) and "
    "their duration, from sending the request to the parsed reply.",
    ["account", "provider", "outcome"],
    # Up to the providers' 70 s read timeout: a slow provider shows in the top buckets.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 70.0),
)
PROVIDER_REQUEST_MESSAGES = Counter(
    "dispatcher_provider_request_messages_total",
    "Messages carried by provider requests, by request outcome (as dispatcher_provider_request_seconds).",
    ["account", "provider", "outcome"],
)
RETRIES = Counter(
    "dispatcher_retries_total",
    "Messages put back to wait for a retry after a retryable provider error (by the error's class).",
    ["account", "error"],
)
RECONCILED = Counter(
    "dispatcher_reconciled_messages_total",
    "Messages of requests with an ambiguous outcome, by what reconciliation found: 'submitted' (the "
    "provider had them), 'requeued' (it did not: safe to resend), 'unknown' (at-most-once policy).",
    ["account", "result"],
)
FALLBACKS = Counter(
    "dispatcher_fallbacks_total",
    "SMS fallbacks of RCS messages created, by trigger: 'callback' (a failure report) or 'deadline' "
    "(nothing delivered in time, or a creator that died after its claim).",
    ["trigger"],
)
CALLBACK_REPORTS = Counter(
    "dispatcher_callback_reports_total",
    "Delivery reports received from providers: 'moved' (a state changed), 'recorded' (history only: a "
    "duplicate or a late report), 'parked' (its send not recorded yet), or 'invalid' (bodies refused).",
    ["provider", "result"],
)

# --- the rate limiter (dispatcher.pipeline.throttle) ---
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

# --- status webhooks (dispatcher.webhooks.sender) ---
WEBHOOK_EVENTS = Counter(
    "dispatcher_webhook_events_total",
    "Webhook events by result: 'delivered' (a 2xx), 'dropped' (attempts spent, or an address webhooks "
    "may not reach: the receiver never gets it).",
    ["result"],
)
