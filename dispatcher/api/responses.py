"""What the HTTP API answers on success (the error shape is in ``dispatcher.api.errors``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dispatcher.producer import MessageStatus


class MessagesAccepted(BaseModel):
    ids: list[str] = Field(description="One id per message, in the order sent.")


class TransitionOut(BaseModel):
    at: float = Field(description="Epoch seconds.")
    source: str
    target: str
    reason: str


class MessageStatusOut(BaseModel):
    id: str
    state: str
    final: bool = Field(description="Whether the state can no longer change.")
    lane: str
    provider: str
    campaign: str | None
    created_at: float = Field(description="Epoch seconds.")
    deadline: float = Field(
        description="Epoch seconds: no attempts after it (its send time, or intake, plus its time to live)."
    )
    attempts: int
    provider_message_id: str | None
    reason: str | None
    history: list[TransitionOut]
    fallback_id: str | None = Field(description="The SMS sent as this RCS message's fallback.")
    fallback_of: str | None = Field(description="The RCS message this SMS stands in for.")

    @classmethod
    def of(cls, status: MessageStatus) -> MessageStatusOut:
        return cls(
            id=status.id,
            state=status.state,
            final=status.final,
            lane=status.lane,
            provider=status.provider,
            campaign=status.campaign,
            created_at=status.created_at,
            deadline=status.deadline,
            attempts=status.attempts,
            provider_message_id=status.provider_message_id,
            reason=status.reason,
            history=[
                TransitionOut(at=t.at, source=t.source, target=t.target, reason=t.reason)
                for t in status.history
            ],
            fallback_id=status.fallback_id,
            fallback_of=status.fallback_of,
        )


class CampaignAccepted(BaseModel):
    id: str


class CampaignCounts(BaseModel):
    id: str
    accepted: bool = Field(
        description="Whether every recipient was checked and the campaign goes out in full; false while it "
        "is still being checked (nothing of it is sent before)."
    )
    total: int
    counts: dict[str, int] = Field(description="Messages per state, every state listed.")


class Health(BaseModel):
    status: str = Field(description="`ok` or `unavailable`.")
    checks: dict[str, str] = Field(description="Each dependency: `ok` or what went wrong.")
