"""Provider reports (delivery callbacks) applied to our messages, and the reports that arrive
before their message's provider id is recorded: parked, then applied by beat (docs/pipeline.md §6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from dispatcher.store.base import StoreBase
from dispatcher.store.records import decoded

#: Parked provider ids looked at per ``apply_early.lua`` call.
EARLY_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class StateReport:
    """One provider event: ``target`` is our state for it, or ``""`` for the history only."""

    provider_message_id: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class Applied:
    """What a report did: ``message_id`` is None when it was parked (no record has its id yet)."""

    message_id: str | None
    moved: bool
    state: str


class ReportStore(StoreBase):
    def apply_reports(
        self,
        provider: str,
        accounts: Sequence[str],
        reports: Sequence[StateReport],
        *,
        park_for_s: float,
    ) -> list[Applied]:
        """Apply reports in order, in one script call; an unknown provider id is parked for
        ``park_for_s`` (see ``apply_early``). Duplicates and regressions change the history only."""
        if not reports:
            return []
        flat = [item for r in reports for item in (r.provider_message_id, r.target, r.reason)]
        reply = self._scripts.apply_reports(
            keys=[self._keys.early],
            args=[
                *self._prelude_args(),
                provider,
                park_for_s,
                " ".join(accounts),
                orjson.dumps(flat),
            ],
        )
        return [
            Applied(decoded(message_id) or None, bool(int(moved)), decoded(state))
            for message_id, moved, state in zip(reply[::3], reply[1::3], reply[2::3], strict=True)
        ]

    def apply_early(self, *, limit: int = EARLY_CHUNK) -> list[tuple[str, str]]:
        """Apply parked reports whose record has its provider id by now; (message id, state after)
        for every move they made."""
        reply = self._scripts.apply_early(keys=[self._keys.early], args=[*self._prelude_args(), limit])
        return [
            (decoded(message_id), decoded(state))
            for message_id, state in zip(reply[::2], reply[1::2], strict=True)
        ]

    def parked_reports(self) -> int:
        """Provider ids with parked reports."""
        return int(self._client.zcard(self._keys.early))
