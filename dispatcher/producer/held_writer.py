"""A campaign's chunks stored *held* (counted in the campaign, out of the lane) from a background
thread while the caller checks the next ones, and the campaign's claim kept alive meanwhile."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from types import TracebackType
from typing import TypeAlias

from dispatcher.errors import StoreUnavailable
from dispatcher.store import NewMessage, Store
from dispatcher.store.intake import Extras

#: Chunks checked ahead of the writer: bounds memory while keeping both threads busy.
WRITE_AHEAD_CHUNKS = 2

#: One chunk of records and their extras (send times, webhooks).
Chunk: TypeAlias = tuple[Sequence[NewMessage], Mapping[str, Extras]]


class _Idle(Enum):
    """No chunk came within the renewal period: only the claim is kept alive."""

    IDLE = "idle"


_IDLE = _Idle.IDLE


class HeldWriter:
    """Stores chunks held, in a background thread, while the caller checks the next ones, and keeps
    the campaign's claim alive (``renew`` every ``renew_every_s``, busy or idle: a caller's slow
    recipients iterator must not cost it the campaign)."""

    def __init__(self, store: Store, owner: str, renew: Callable[[], bool], renew_every_s: float) -> None:
        self._store = store
        self._owner = owner
        self._renew = renew
        self._renew_every_s = renew_every_s
        self._renewed = time.monotonic()
        self._chunks: queue.Queue[Chunk | None] = queue.Queue(WRITE_AHEAD_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="campaign-writer", daemon=True)

    def __enter__(self) -> HeldWriter:
        self._thread.start()
        return self

    def write(self, chunk: Chunk) -> None:
        self._raise_if_failed()
        self._chunks.put(chunk)

    def _run(self) -> None:
        while True:
            chunk: Chunk | _Idle | None
            try:
                chunk = self._chunks.get(timeout=self._renew_every_s)
            except queue.Empty:
                chunk = _IDLE
            if chunk is None:
                return
            if self._error is None:
                try:
                    self._keep_claim()
                    if chunk is not _IDLE:
                        records, extras = chunk
                        self._store.add_messages(records, held_by=self._owner, extras=extras)
                except BaseException as exc:  # handed to the caller's thread by _raise_if_failed
                    self._error = exc

    def _keep_claim(self) -> None:
        if time.monotonic() - self._renewed < self._renew_every_s:
            return
        if not self._renew():
            raise StoreUnavailable(
                "this intake lost its claim on the campaign id (it stalled past its lease and another "
                "call with the same id took the campaign over); nothing more of it is stored"
            )
        self._renewed = time.monotonic()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._chunks.put(None)
        self._thread.join()
        if kind is None:
            self._raise_if_failed()
