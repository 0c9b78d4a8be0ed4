"""Revicom Direct messages: one model per channel (SMS, VOICECODE, FLASHCALL, VK) and their union.

Every message in a Revicom request is self-contained, so each model holds everything its wire object
needs; ``dispatcher.providers.revicom_wire.wire_message`` turns it into the provider's camelCase
JSON. Field rules live in ``revicom_fields``. Nothing here invents provider defaults: a field left
unset is left out of the request and the provider applies its own (``useLocalTime`` true,
``shortUrl`` false, ``callbackEvents`` ["delivered"] when a callback URL is given).

Build them with ``dispatcher.models.common.build`` (one channel) or ``build_revicom_message`` (any
channel, chosen by ``channel``); both raise ``InvalidMessage`` naming field, value and rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from dispatcher.models.common import ChannelModel, Msisdn, build, invalid_message, rule_error
from dispatcher.models.revicom_fields import (
    COMPLETION_TIME_LATEST_DAYS,
    SEND_TIME_EARLIEST_H,
    SEND_TIME_LATEST_DAYS,
    CallbackEvents,
    CallbackUrl,
    Days,
    ExternalMessageId,
    FlashCallCode,
    Hours,
    LocalTime,
    SenderName,
    SmsText,
    SmsTtl,
    Tag,
    VkText,
    VkTtl,
    VoiceCodeBrand,
    VoiceCodeDigits,
    VoiceCodeStyle,
    VoiceCodeText,
    VoiceCodeTtl,
    checks_time_windows,
    format_local_time,
    utc_now,
    voicecode_text,
)

VOICECODE_SENDER_NAME = "voicecode"


class _RevicomMessageBase(ChannelModel):
    """Fields every Revicom channel has: the number, tags and delivery callbacks."""

    destination: Msisdn
    tags: tuple[Tag, ...] = ()
    callback_url: CallbackUrl | None = None
    #: Unset means the provider's default (``delivered``) when ``callback_url`` is set.
    callback_events: CallbackEvents | None = None

    @field_validator("callback_events")
    @classmethod
    def _events_need_a_url(cls, value: CallbackEvents | None, info: ValidationInfo) -> CallbackEvents | None:
        # A callback_url that failed its own check is absent from info.data: report only that one.
        if value is not None and "callback_url" in info.data and info.data["callback_url"] is None:
            raise rule_error("callback_events need a callback_url to be sent to")
        return value


class _ScheduledMessage(_RevicomMessageBase):
    """SMS and VK: sending windows in the subscriber's (or Moscow) time, link shortening."""

    #: Unset: the provider's default (true, the subscriber's time zone); false: Moscow time.
    use_local_time: StrictBool | None = None
    local_send_time: LocalTime | None = None
    local_completion_time: LocalTime | None = None
    hours: Hours | None = None
    days: Days | None = None
    short_url: StrictBool | None = None

    @field_validator("local_send_time")
    @classmethod
    def _send_time_in_window(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None or not checks_time_windows(info):
            return value
        now = utc_now(info)
        earliest = now - timedelta(hours=SEND_TIME_EARLIEST_H)
        latest = now + timedelta(days=SEND_TIME_LATEST_DAYS)
        if not earliest < value < latest:
            raise rule_error(
                f"local_send_time must lie between now UTC - {SEND_TIME_EARLIEST_H} h and now UTC + "
                f"{SEND_TIME_LATEST_DAYS} days ({format_local_time(earliest)} .. {format_local_time(latest)})"
            )
        return value

    @field_validator("local_completion_time")
    @classmethod
    def _completion_time_in_window(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None or not checks_time_windows(info):
            return value
        if "local_send_time" not in info.data:  # the send time is invalid and reported on its own
            return value
        now = utc_now(info)
        earliest = completion_time_earliest(info.data["local_send_time"], now)
        latest = now + timedelta(days=COMPLETION_TIME_LATEST_DAYS)
        if not earliest <= value <= latest:
            raise rule_error(
                f"local_completion_time must lie between local_send_time (or now UTC when unset) and now "
                f"UTC + {COMPLETION_TIME_LATEST_DAYS} days ({format_local_time(earliest)} .. "
                f"{format_local_time(latest)})"
            )
        return value


def completion_time_earliest(local_send_time: datetime | None, now_utc: datetime) -> datetime:
    """The lower bound of ``local_completion_time``.

    Strict reading: the docs bound it by ``localSendTime`` and say an unset send time means "send
    immediately", so without a send time the bound is now (UTC).
    """
    return local_send_time if local_send_time is not None else now_utc


class RevicomSms(_ScheduledMessage):
    channel: Literal["SMS"] = "SMS"
    #: An SMS name the provider has approved (status "Approved", started no later than now).
    sender_name: SenderName
    text: SmsText
    ttl_s: SmsTtl | None = None


def _always_voicecode(value: object) -> object:
    if value != VOICECODE_SENDER_NAME:
        raise rule_error(f"VOICECODE messages always use the sender name {VOICECODE_SENDER_NAME!r}")
    return value


class RevicomVoiceCode(_RevicomMessageBase):
    """A code read out in a voice call; the text must follow the provider's template."""

    channel: Literal["VOICECODE"] = "VOICECODE"
    sender_name: Annotated[Literal["voicecode"], BeforeValidator(_always_voicecode)] = "voicecode"
    text: VoiceCodeText
    ttl_s: VoiceCodeTtl | None = None
    external_message_id: ExternalMessageId | None = None

    @classmethod
    def from_code(
        cls, *, destination: str, brand: str, code: str, style: VoiceCodeStyle = "plain", **options: Any
    ) -> RevicomVoiceCode:
        """Build from a brand and a code (``style``: 1234, 1 2 3 4 or 1-2-3-4); raises InvalidMessage
        naming ``brand``, ``code`` or ``style`` when they are wrong (not the sentence made of them)."""
        parts = build(VoiceCodeParts, {"brand": brand, "code": code, "style": style})
        return build(cls, {"destination": destination, "text": parts.text(), **options})


class VoiceCodeParts(ChannelModel):
    """What a voice code's text is made of: the template is the dispatcher's job."""

    brand: VoiceCodeBrand
    code: VoiceCodeDigits
    style: VoiceCodeStyle = "plain"

    def text(self) -> str:
        return voicecode_text(self.brand, self.code, self.style)


class RevicomFlashCall(_RevicomMessageBase):
    """A missed call whose calling number ends in the code."""

    channel: Literal["FLASHCALL"] = "FLASHCALL"
    sender_name: SenderName
    code: FlashCallCode


class RevicomVk(_ScheduledMessage):
    channel: Literal["VK"] = "VK"
    sender_name: SenderName
    text: VkText
    ttl_s: VkTtl | None = None


RevicomMessage: TypeAlias = Annotated[
    RevicomSms | RevicomVoiceCode | RevicomFlashCall | RevicomVk, Field(discriminator="channel")
]


class _AnyRevicomMessage(RootModel[RevicomMessage]):
    model_config = ConfigDict(frozen=True)


def build_revicom_message(data: Any, *, context: dict[str, Any] | None = None) -> RevicomMessage:
    """Validate a message of any Revicom channel (chosen by ``channel``), or raise InvalidMessage."""
    try:
        return _AnyRevicomMessage.model_validate(data, context=context).root
    except ValidationError as exc:
        raise invalid_message(exc) from None
