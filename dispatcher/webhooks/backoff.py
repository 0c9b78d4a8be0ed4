"""When a failed webhook POST is tried again (pure): exponential backoff with full jitter, so the
events of one receiver that failed together do not all come back at the same moment."""

from __future__ import annotations

import random


def retry_delay_s(attempts: int, *, base_s: float, cap_s: float, draw: float | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: uniform in [half, all] of ``base_s * 2**attempts``
    capped at ``cap_s``. ``draw`` in [0, 1] replaces the random draw (tests)."""
    ceiling = float(min(cap_s, base_s * 2 ** min(attempts, 30)))
    share = random.random() if draw is None else draw  # noqa: S311 - jitter, not a secret
    return ceiling * (0.5 + share / 2)
