"""The providers' side of delivery callbacks under chaos, driven from the simulator's callback log.

The simulator POSTs each callback once and only records a failure. A real provider retries a
callback that got no 2xx; without that, a callback refused while our Redis was down would leave its
message ``submitted`` for ever, through no fault of the pipeline. So this replayer redelivers every
callback our API did not take, and on top of that sends some again (duplicates) and some late
(out of order: a ``sent`` report after the message's final one), which the API must shrug off.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import orjson
import requests

from dispatcher.simulator.client import SimulatorClient

#: A ``sent`` report replayed this long after it first arrived comes after the message's final
#: report (the simulator's steps are at most ``callback_delay_s`` apart).
LATE_AFTER_S = 2.0
POST_TIMEOUT_S = 10.0


def _taken(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _intermediate(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The entry reduced to its ``sent`` reports (None if it has none): Revicom batches events of
    many messages in one array, BSG posts one status object."""
    body = entry["body"]
    if entry["provider"] == "revicom" and isinstance(body, list):
        sent = [event for event in body if event.get("callback_event") == "sent"]
        return {**entry, "body": sent} if sent else None
    if entry["provider"] == "bsg" and isinstance(body, dict) and body.get("status") == "sent":
        return entry
    return None


class CallbackReplayer:
    def __init__(self, sim: SimulatorClient, rng: random.Random) -> None:
        self._sim = sim
        self._rng = rng
        self._session = requests.Session()
        self._last_seq = 0
        self._taken: list[dict[str, Any]] = []
        self._sent_reports: list[tuple[float, dict[str, Any]]] = []
        self._waiting: dict[int, dict[str, Any]] = {}
        #: Our API's answer to every callback, the simulator's and ours, by status ("no answer":
        #: connection refused or timed out).
        self.answers: Counter[str] = Counter()
        self.redelivered = 0
        self.duplicated = 0
        self.out_of_order = 0

    def read_log(self) -> None:
        """Take in the callbacks the simulator attempted since the last call."""
        now = time.monotonic()
        for entry in self._sim.callbacks():
            if entry["seq"] <= self._last_seq:
                continue
            self._last_seq = entry["seq"]
            status = entry["status"]
            self.answers[str(status) if status is not None else "no answer"] += 1
            if not _taken(status):
                self._waiting[entry["seq"]] = entry
                continue
            self._taken.append(entry)
            if (sent := _intermediate(entry)) is not None:
                self._sent_reports.append((now, sent))

    @property
    def waiting(self) -> int:
        """Callbacks our API has not taken yet (the provider would still retry them)."""
        return len(self._waiting)

    def redeliver(self) -> int:
        """POST again every callback our API has not taken; returns how many still wait."""
        for seq, entry in list(self._waiting.items()):
            if self._post(entry):
                del self._waiting[seq]
                self.redelivered += 1
        return self.waiting

    def duplicate(self, count: int) -> None:
        """POST ``count`` callbacks our API already took, again."""
        for entry in self._rng.sample(self._taken, min(count, len(self._taken))):
            self._post(entry)
            self.duplicated += 1

    def send_late(self, count: int) -> None:
        """POST ``count`` ``sent`` reports again, after their messages' final reports."""
        late_enough = time.monotonic() - LATE_AFTER_S
        candidates = [entry for at, entry in self._sent_reports if at <= late_enough]
        for entry in self._rng.sample(candidates, min(count, len(candidates))):
            self._post(entry)
            self.out_of_order += 1

    def _post(self, entry: dict[str, Any]) -> bool:
        content_type = entry["content_type"]
        body = entry["body"]
        data = orjson.dumps(body) if content_type == "application/json" else str(body).encode()
        try:
            # The URL carries the callback secret: it is used, never printed.
            response = self._session.post(
                entry["url"], data=data, headers={"Content-Type": content_type}, timeout=POST_TIMEOUT_S
            )
        except requests.RequestException:
            self.answers["no answer"] += 1
            return False
        self.answers[str(response.status_code)] += 1
        return _taken(response.status_code)

    def close(self) -> None:
        self._session.close()
