"""What the HTTP API answers on success (the error shape is in ``dispatcher.api.errors``)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from dispatcher.producer import MessageStatus


def _iso(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


_MESSAGE_ID = "0193a1b2c3d4e5f6a7b8c9d0e1"


class MessagesAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ids": [_MESSAGE_ID]}]})

    ids: list[str] = Field(description="One id per message, in the order sent.")


class TransitionOut(BaseModel):
    at: datetime = Field(description="When (ISO 8601, UTC).")
    source: str
    target: str
    reason: str


class MessageStatusOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _MESSAGE_ID,
                    "state": "delivered",
                    "final": True,
                    "channel": "sms",
                    "destination": "7916*****67",
                    "segments": 1,
                    "encoding": "GSM-7",
                    "lane": "revicom:transactional",
                    "provider": "revicom",
                    "campaign": None,
                    "created_at": "2026-05-01T09:30:00.120000Z",
                    "deadline": "2026-05-02T09:30:00.120000Z",
                    "attempts": 1,
                    "provider_message_id": "5b0c8c5e-0c39-4a4b-9c1e-6d1b9f1f2a10",
                    "provider_error_code": None,
                    "reason": "callback delivered",
                    "history": [
                        {
                            "at": "2026-05-01T09:30:00.120000Z",
                            "source": "",
                            "target": "queued",
                            "reason": "accepted",
                        },
                        {
                            "at": "2026-05-01T09:30:00.310000Z",
                            "source": "queued",
                            "target": "sending",
                            "reason": "",
                        },
                        {
                            "at": "2026-05-01T09:30:00.650000Z",
                            "source": "sending",
                            "target": "submitted",
                            "reason": "",
                        },
                        {
                            "at": "2026-05-01T09:30:04.020000Z",
                            "source": "submitted",
                            "target": "delivered",
                            "reason": "callback delivered",
                        },
                    ],
                    "fallback_id": None,
                    "fallback_of": None,
                }
            ]
        }
    )

    id: str
    state: str
    final: bool = Field(description="Whether the state can no longer change.")
    channel: str = Field(description="sms, voicecode, flashcall, vk or rcs.")
    destination: str | None = Field(description="The number, masked (country code and last two digits).")
    segments: int | None = Field(description="SMS and VK: the segments the text takes (null otherwise).")
    encoding: str | None = Field(description="SMS and VK: GSM-7 or UCS-2 (null otherwise).")
    lane: str
    provider: str
    campaign: str | None
    created_at: datetime = Field(description="Intake (ISO 8601, UTC).")
    deadline: datetime = Field(
        description="No attempts after it (ISO 8601, UTC): its send time, or intake, plus its time to live."
    )
    attempts: int
    provider_message_id: str | None
    provider_error_code: str | None = Field(
        description="The latest error code the provider gave (a refusal or a failure report)."
    )
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
            channel=status.channel,
            destination=status.destination_masked,
            segments=status.segments,
            encoding=status.encoding,
            lane=status.lane,
            provider=status.provider,
            campaign=status.campaign,
            created_at=_iso(status.created_at),
            deadline=_iso(status.deadline),
            attempts=status.attempts,
            provider_message_id=status.provider_message_id,
            provider_error_code=status.provider_error_code,
            reason=status.reason,
            history=[
                TransitionOut(at=_iso(t.at), source=t.source, target=t.target, reason=t.reason)
                for t in status.history
            ],
            fallback_id=status.fallback_id,
            fallback_of=status.fallback_of,
        )


class CampaignAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "spring-sale"}]})

    id: str


class CampaignCounts(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "spring-sale",
                    "accepted": True,
                    "total": 2,
                    "counts": {"queued": 0, "sending": 0, "submitted": 1, "delivered": 1, "rejected": 0},
                }
            ]
        }
    )

    id: str
    accepted: bool = Field(
        description="Whether every recipient was checked and the campaign goes out in full; false while it "
        "is still being checked (nothing of it is sent before)."
    )
    total: int
    counts: dict[str, int] = Field(description="Messages per state, every state listed.")


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "checks": {"redis": "ok", "broker": "ok"}}]}
    )

    status: str = Field(description="`ok` or `unavailable`.")
    checks: dict[str, str] = Field(description="Each dependency: `ok` or what went wrong.")
