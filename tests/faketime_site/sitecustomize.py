"""Imported at start-up by the Python processes the fault suite runs under libfaketime (their
PYTHONPATH starts here; see tests/clock_skew.py).

libfaketime 0.9.10 (Debian 12) fails ``time.sleep`` with ``EINVAL`` when the monotonic clock is left
true: Python sleeps with ``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)``, whose wrapper shifts
the absolute deadline as if it were wall-clock time. Faking the monotonic clock too would be worse:
every timed lock wait would then hang for the offset. A timed wait on an event sleeps the same
without that call, so these processes sleep that way.
"""

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


time.sleep = _sleep
