"""The webhook signature (pure): ``X-Dispatcher-Signature: sha256=<hex>``, an HMAC-SHA256 with the
deployment's webhook secret over ``<timestamp>.<body>``, the timestamp (epoch s) also sent as
``X-Dispatcher-Timestamp`` so receivers can refuse replays."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Dispatcher-Signature"
TIMESTAMP_HEADER = "X-Dispatcher-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, timestamp: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """What a receiver does (constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), given)


def retry_delay_s(attempts: int, *, base_s: float, cap_s: float) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from ``base_s``, at most ``cap_s``."""
    return float(min(cap_s, base_s * 2 ** min(attempts, 30)))
