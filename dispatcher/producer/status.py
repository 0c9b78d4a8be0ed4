"""What ``Dispatcher.status`` answers: a message's state, history and provider-side facts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dispatcher.phone import mask_msisdn
from dispatcher.providers.wire_summary import summarize
from dispatcher.segments import count_segments
from dispatcher.store import MessageRecord, Transition
from dispatcher.store.states import FINAL_STATES, REJECTED

#: The provider's code in our own reasons: ``callback <status> error <code>`` (a delivery report),
#: ``<code> <text>`` when the provider refused the message (its move to ``rejected``).
_CALLBACK_ERROR = re.compile(r"^callback \S+ error (?P<code>\S+)")
_REJECTION_CODE = re.compile(r"^(?P<code>[0-9A-Za-z_.-]+) ")


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
    #: sms, voicecode, flashcall, vk or rcs.
    channel: str = ""
    #: The number, masked as in the logs (country code and last two digits).
    destination_masked: str | None = None
    #: SMS-like channels: how many segments the text takes, and in which encoding (GSM-7, UCS-2).
    segments: int | None = None
    encoding: str | None = None
    #: The latest error code the provider gave for the message (a refusal, a failure report).
    provider_error_code: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @classmethod
    def from_record(
        cls, record: MessageRecord, *, fallback_id: str | None = None, fallback_of: str | None = None
    ) -> MessageStatus:
        summary = summarize(record.provider, record.wire)
        count = count_segments(summary.sms_text) if summary.sms_text is not None else None
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
            channel=record.channel,
            destination_masked=mask_msisdn(summary.destination) if summary.destination else None,
            segments=count.segments if count is not None else None,
            encoding=count.encoding if count is not None else None,
            provider_error_code=provider_error_code(record.history),
        )


def provider_error_code(history: tuple[Transition, ...]) -> str | None:
    """The provider's latest error code in the history's reasons, if any."""
    for step in reversed(history):
        found = _CALLBACK_ERROR.match(step.reason)
        if found is None and step.target == REJECTED:
            found = _REJECTION_CODE.match(step.reason)
        if found is not None:
            return found["code"]
    return None
