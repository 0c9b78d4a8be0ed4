"""What ``Dispatcher.status`` answers: a message's state, history and provider-side facts."""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.store import MessageRecord, Transition
from dispatcher.store.states import FINAL_STATES


@dataclass(frozen=True, slots=True)
class MessageStatus:
    id: str
    state: str
    lane: str
    provider: str
    campaign: str | None
    created_at: float
    #: No attempts after this (epoch s): its send time (or intake) plus its time to live.
    deadline: float
    attempts: int
    provider_message_id: str | None
    reason: str | None
    history: tuple[Transition, ...]
    #: The SMS sent as this RCS message's fallback, if one was.
    fallback_id: str | None = None
    #: The RCS message this SMS stands in for, if it is a fallback.
    fallback_of: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @classmethod
    def from_record(
        cls, record: MessageRecord, *, fallback_id: str | None = None, fallback_of: str | None = None
    ) -> MessageStatus:
        return cls(
            id=record.id,
            state=record.state,
            lane=record.lane,
            provider=record.provider,
            campaign=record.campaign,
            created_at=record.created_at,
            deadline=record.deadline,
            attempts=record.attempts,
            provider_message_id=record.provider_message_id,
            reason=record.reason,
            history=record.history,
            fallback_id=fallback_id,
            fallback_of=fallback_of,
        )
