"""Injected faults: what may go wrong with the next requests to a path, and how to make it happen.

Every fault first waits ``seconds``; then, by kind:

- ``latency``: process the request normally (a slow provider);
- ``hang``: close the connection with no response (the client sees its read timeout first);
- ``status``: answer ``status`` (default 503) with a short JSON body;
- ``rate_limit``: answer ``status`` (default 429) with ``Retry-After: retry_after``;
- ``drop``: close the connection with no response.

With ``after_processing`` the request is processed first (the provider HAS created the messages),
then the fault acts: for ``hang`` the real response is sent only after the wait -- the ambiguous
"created, but the client timed out" case. A fault applies to the next ``count`` matching requests
(unlimited when None), each with ``probability``.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["latency", "hang", "status", "rate_limit", "drop"]
DEFAULT_STATUS = {"status": 503, "rate_limit": 429}


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(pattern=r"^/\S*$")
    kind: FaultKind
    method: str | None = Field(default=None, pattern=r"^[A-Z]+$")
    seconds: float = Field(default=0.0, ge=0, le=600)
    status: int | None = Field(default=None, ge=100, le=599)
    retry_after: float = Field(default=1.0, ge=0)
    count: int | None = Field(default=None, ge=1)
    probability: float = Field(default=1.0, gt=0, le=1)
    after_processing: bool = False

    def response_status(self) -> int:
        return self.status or DEFAULT_STATUS.get(self.kind, 503)

    def matches(self, method: str, path: str) -> bool:
        return self.path == path and (self.method is None or self.method == method)


class FaultRegistry:
    """Faults in the order they were added; the first match that fires is consumed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._random = random.Random()  # noqa: S311 - simulation, not security

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if not fault.matches(method, path):
                continue
            if fault.probability < 1 and self._random.random() >= fault.probability:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
            return fault
        return None

    def list(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> None:
        self._faults.clear()
