"""Creating claimed SMS fallbacks and starting their lanes: shared by the callback handler (a
failure report) and beat (a deadline passed, or a creator that died after its claim)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dispatcher.metrics.events import FALLBACKS
from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.taskqueue import TaskSender, try_kick

log = logging.getLogger(__name__)


def send_fallbacks(store: Store, tasks: TaskSender, settings: Settings, rcs_ids: Sequence[str]) -> int:
    """Claim the fallbacks of ``rcs_ids`` (none: every one whose deadline passed), create the SMS
    and kick their lanes (a failed kick is left to beat); returns how many SMS were handed to the
    store."""
    claimed = store.claim_fallbacks(rcs_ids)
    if not claimed:
        return 0
    created = store.create_fallbacks(claimed)
    FALLBACKS.labels("callback" if rcs_ids else "deadline").inc(len(created))
    for lane in sorted({sms.lane for sms in created}):
        try_kick(store, tasks, lane, settings)
    log.info("fallback: %d SMS for RCS messages %s", len(created), ", ".join(claimed[:5]))
    return len(created)
