"""How accepted messages move on: after a delay they are sent, after another they reach a final status.

Work is scheduled per batch (all messages of one request share their timers) so that a million
accepted messages cost a few thousand heap entries, not a million. Final statuses are drawn per
message from the configured outcome mix. Every status a message passes through is handed to the
``StatusListener`` (the callback sender), which decides who hears about it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from dispatcher.simulator.config import SimConfig
from dispatcher.simulator.store import SimMessage

#: Status of a message the provider holds but has not sent yet. Revicom's: *unconfirmed*.
INITIAL_STATUS = {"revicom": "pending", "smartswitch": "accepted", "bsg": "accepted"}
SENT_STATUS = {"revicom": "sent", "smartswitch": "enroute", "bsg": "sent"}
#: A stopped Revicom message ends ``unsent`` (stop page); other providers have no stop.
STOPPED_STATUS = "unsent"
#: Revicom reports ``read`` after ``delivered``: the subscriber must have received it first.
STATUSES_BEFORE = {("revicom", "read"): ("delivered",), ("bsg", "read"): ("delivered",)}
#: Revicom's error-code table is not published; the callback example's code stands in for all failures.
REVICOM_FAILURE_ERROR_CODE = 6969
_SUCCESS_STATUSES = frozenset({"delivered", "read", "sent"})

TICK_S = 0.02


class StatusListener(Protocol):
    def status_changed(self, message: SimMessage, status: str, at: float) -> None: ...

    def flush(self) -> None: ...


@dataclass(order=True)
class _Step:
    due: float
    order: int
    kind: Literal["send", "finish"] = field(compare=False)
    messages: list[SimMessage] = field(compare=False)


class Lifecycle:
    """The timer heap of pending steps and the transitions they make."""

    def __init__(self, config: Callable[[], SimConfig], listener: StatusListener) -> None:
        self._config = config
        self._listener = listener
        self._heap: list[_Step] = []
        self._order = itertools.count()
        self._random = random.Random()  # noqa: S311 - simulation, not security

    def _delay_s(self) -> float:
        low, high = self._config().callback_delay_s
        return self._random.uniform(low, high)

    def accept(self, messages: list[SimMessage], *, not_before: float | None = None) -> None:
        """Schedule freshly accepted messages to be sent (not before ``not_before``, epoch seconds)."""
        if messages:
            start = max(time.time(), not_before or 0.0)
            self._push(start + self._delay_s(), "send", messages)

    def stop(self, messages: list[SimMessage]) -> None:
        """Messages the client stopped before their send time end ``unsent`` soon ("asynchronously",
        stop page), not at their send time; their original send step then finds them final."""
        for message in messages:
            message.stop_requested = True
        if messages:
            self._push(time.time() + self._delay_s(), "send", messages)

    def _push(self, due: float, kind: Literal["send", "finish"], messages: list[SimMessage]) -> None:
        heapq.heappush(self._heap, _Step(due, next(self._order), kind, messages))

    def clear(self) -> None:
        self._heap.clear()

    def tick(self, now: float | None = None) -> int:
        """Run every step that is due; returns how many messages moved."""
        now = time.time() if now is None else now
        moved = 0
        while self._heap and self._heap[0].due <= now:
            step = heapq.heappop(self._heap)
            if step.kind == "send":
                moved += self._send(step.messages, now)
            else:
                moved += self._finish(step.messages, now)
        self._listener.flush()
        return moved

    def _set(self, message: SimMessage, status: str, now: float) -> None:
        message.status = status
        message.status_at = now
        self._listener.status_changed(message, status, now)

    def _send(self, messages: list[SimMessage], now: float) -> int:
        still_going = []
        for message in messages:
            if message.final:
                continue
            if message.stop_requested:
                message.final = True
                message.error_code = REVICOM_FAILURE_ERROR_CODE
                self._set(message, STOPPED_STATUS, now)
                continue
            message.sent_at = now
            self._set(message, SENT_STATUS[message.provider], now)
            still_going.append(message)
        if still_going:
            self._push(now + self._delay_s(), "finish", still_going)
        return len(messages)

    def _finish(self, messages: list[SimMessage], now: float) -> int:
        open_messages = [message for message in messages if not message.final]
        for message, outcome in zip(open_messages, self._draw(open_messages), strict=True):
            for earlier in STATUSES_BEFORE.get((message.provider, outcome), ()):
                self._set(message, earlier, now)
            message.final = True
            if outcome not in _SUCCESS_STATUSES and message.provider == "revicom":
                message.error_code = REVICOM_FAILURE_ERROR_CODE
            self._set(message, outcome, now)
        return len(open_messages)

    def _draw(self, messages: Iterable[SimMessage]) -> list[str]:
        outcomes = self._config().outcomes
        drawn = []
        for message in messages:
            if message.forced_outcome is not None:
                drawn.append(message.forced_outcome)
                continue
            mix = outcomes[message.provider]
            drawn.append(self._random.choices(list(mix), weights=list(mix.values()))[0])
        return drawn

    async def run(self) -> None:
        """Tick forever (cancelled at shutdown)."""
        while True:
            self.tick()
            await asyncio.sleep(TICK_S)
