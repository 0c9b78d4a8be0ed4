"""What the HTTP API accepts: a message (a channel ``type`` plus that channel model's fields plus the
send options), a batch of them, and campaigns.

Each request class inherits its channel model, so the request is checked by the very rules
``Dispatcher`` applies, and the OpenAPI document lists every field with its limits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    ModelWrapValidatorHandler,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build, numbers_in_region
from dispatcher.models.revicom import RevicomFlashCall, RevicomSms, RevicomVk, RevicomVoiceCode
from dispatcher.models.revicom_fields import (
    VoiceCodeBrand,
    VoiceCodeDigits,
    VoiceCodeStyle,
    VoiceCodeText,
    voicecode_text,
)
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.phone import region_code
from dispatcher.producer import Message
from dispatcher.producer.campaign_replay import CAMPAIGN_ID_PATTERN
from dispatcher.producer.extras import SmsFallback
from dispatcher.producer.windows import SendingWindow

#: The ``type`` of a message in the API -> its channel model.
CHANNELS: dict[str, type[Message]] = {
    "revicom_sms": RevicomSms,
    "revicom_voicecode": RevicomVoiceCode,
    "revicom_flashcall": RevicomFlashCall,
    "revicom_vk": RevicomVk,
    "smartswitch_sms": SmartswitchSms,
    "bsg_rcs": BsgRcs,
}
ChannelType: TypeAlias = Literal[
    "revicom_sms", "revicom_voicecode", "revicom_flashcall", "revicom_vk", "smartswitch_sms", "bsg_rcs"
]
#: Tags of the body's two shapes; they never reach an error's field name.
ONE, BATCH = "message", "batch"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """Local hours (0..23) and ISO weekdays (1 Monday .. 7 Sunday) in which the subscriber may be messaged."""

    hours: list[int] = Field(min_length=1, max_length=24)
    days: list[int] = Field(default=[1, 2, 3, 4, 5, 6, 7], min_length=1, max_length=7)

    def sending_window(self) -> SendingWindow:
        return SendingWindow(hours=self.hours, days=self.days)


class DeliveryOptions(_Strict):
    """How a call is sent: for every message of it."""

    account: str | None = Field(default=None, description="Account to send through (default: the first).")
    priority: Literal["transactional", "bulk"] | None = Field(
        default=None, description="Default: transactional for one message, bulk for batches and campaigns."
    )
    deadline_s: float | None = Field(default=None, gt=0, description="No attempts after this many seconds.")
    send_at: AwareDatetime | None = Field(default=None, description="Not sent before this time.")
    window: Window | None = None
    webhook_url: str | None = Field(
        default=None, max_length=2048, description="Status changes are POSTed here (http or https)."
    )
    region: str | None = Field(
        default=None,
        examples=["RU"],
        description="ISO 3166 region the numbers written nationally (`8 916 123-45-67`) belong to; "
        "numbers written with + or 00 are read as written. A campaign without it uses the "
        "`default_region` setting; a message without it must be international.",
    )

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str | None) -> str | None:
        return None if region is None else region_code(region)

    @model_validator(mode="wrap")
    @classmethod
    def _numbers_in_region(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # Every number of the request (a batch's too) is read in its region while it is validated.
        given = data.get("region") if isinstance(data, dict) else None
        try:
            region = region_code(given) if isinstance(given, str) else None
        except ValueError:
            region = None  # the field's own rule names it
        with numbers_in_region(region):
            return handler(data)

    def send_kwargs(self) -> dict[str, Any]:
        """The options as ``Dispatcher.send``/``send_many``/``campaign`` keyword arguments."""
        send_at: datetime | None = self.send_at
        return {
            "account": self.account,
            "priority": self.priority,
            "deadline_s": self.deadline_s,
            "send_at": send_at,
            "window": self.window.sending_window() if self.window else None,
            "webhook_url": self.webhook_url,
        }


class Fallback(_Strict):
    """An RCS message's SMS stand-in, sent once if the RCS message is not delivered or read in time."""

    text: str = Field(min_length=1)
    sender: str = Field(min_length=1)
    account: str | None = None
    deadline_s: float = Field(default=300.0, gt=0)


class RevicomSmsItem(RevicomSms):
    type: Literal["revicom_sms"]


class RevicomVoiceCodeItem(RevicomVoiceCode):
    """A code read out in a call: give `brand` and `code` (and a `style`) and the dispatcher writes the
    provider's sentence; `text` is for another template the provider approved."""

    type: Literal["revicom_voicecode"]
    text: VoiceCodeText | None = Field(  # type: ignore[assignment]  # optional here: brand + code
        default=None, description="The whole sentence read out (only for a template of your own)."
    )
    brand: VoiceCodeBrand | None = Field(
        default=None, description="Who the code is from, read out before it."
    )
    code: VoiceCodeDigits | None = Field(default=None, description="The code's digits.")
    style: VoiceCodeStyle | None = Field(
        default=None, description="How the digits are read: plain 1234, spaced 1 2 3 4, dashed 1-2-3-4."
    )

    @model_validator(mode="after")
    def _brand_and_code_or_text(self) -> RevicomVoiceCodeItem:
        by_code = self.brand is not None or self.code is not None or self.style is not None
        if by_code and self.text is not None:
            raise PydanticCustomError("voicecode_form", "give brand and code, or text, not both")
        if by_code and (self.brand is None or self.code is None):
            raise PydanticCustomError("voicecode_form", "brand and code go together: give both")
        if not by_code and self.text is None:
            raise PydanticCustomError("voicecode_form", "a voice code needs brand and code (or text)")
        return self

    def channel_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields`` with the sentence made of brand, code and style in place of them."""
        for name in ("brand", "code", "style"):
            fields.pop(name, None)
        if self.brand is not None and self.code is not None:
            fields["text"] = voicecode_text(self.brand, self.code, self.style or "plain")
        return fields


class RevicomFlashCallItem(RevicomFlashCall):
    type: Literal["revicom_flashcall"]


class RevicomVkItem(RevicomVk):
    type: Literal["revicom_vk"]


class SmartswitchSmsItem(SmartswitchSms):
    type: Literal["smartswitch_sms"]


class BsgRcsItem(BsgRcs):
    type: Literal["bsg_rcs"]


MessageItem: TypeAlias = Annotated[
    RevicomSmsItem
    | RevicomVoiceCodeItem
    | RevicomFlashCallItem
    | RevicomVkItem
    | SmartswitchSmsItem
    | BsgRcsItem,
    Field(discriminator="type"),
]


class RevicomSmsRequest(RevicomSmsItem, DeliveryOptions):
    pass


class RevicomVoiceCodeRequest(RevicomVoiceCodeItem, DeliveryOptions):
    pass


class RevicomFlashCallRequest(RevicomFlashCallItem, DeliveryOptions):
    pass


class RevicomVkRequest(RevicomVkItem, DeliveryOptions):
    pass


class SmartswitchSmsRequest(SmartswitchSmsItem, DeliveryOptions):
    pass


class BsgRcsRequest(BsgRcsItem, DeliveryOptions):
    fallback: Fallback | None = None


MessageRequest: TypeAlias = Annotated[
    RevicomSmsRequest
    | RevicomVoiceCodeRequest
    | RevicomFlashCallRequest
    | RevicomVkRequest
    | SmartswitchSmsRequest
    | BsgRcsRequest,
    Field(discriminator="type"),
]


class MessageBatch(DeliveryOptions):
    """Many messages with the same options, accepted or refused together (``Dispatcher.send_many``)."""

    messages: list[MessageItem] = Field(min_length=1, max_length=10_000)


def _body_shape(value: Any) -> str:
    return BATCH if isinstance(value, dict) and "messages" in value else ONE


SendBody: TypeAlias = Annotated[
    Annotated[MessageRequest, Tag(ONE)] | Annotated[MessageBatch, Tag(BATCH)], Discriminator(_body_shape)
]

_NOT_CHANNEL_FIELDS = frozenset({"type", "fallback", *DeliveryOptions.model_fields})


def channel_message(item: BaseModel) -> Message:
    """The channel model instance of a validated item or request (what ``Dispatcher`` takes)."""
    kind = getattr(item, "type", None)
    model = CHANNELS[str(kind)]
    fields = item.model_dump(exclude=set(_NOT_CHANNEL_FIELDS), exclude_unset=True)
    if isinstance(item, RevicomVoiceCodeItem):
        fields = item.channel_fields(fields)
    return build(model, fields)


def sms_fallback(request: BsgRcsRequest) -> SmsFallback | None:
    if request.fallback is None:
        return None
    return SmsFallback(**request.fallback.model_dump())


class Template(BaseModel):
    """A channel ``type`` and every field of its model except the recipient's number; string values
    may hold ``{name}`` placeholders filled from each recipient's CSV columns or dict keys."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: ChannelType


class CampaignOptions(DeliveryOptions):
    template: Template
    campaign_id: str | None = Field(
        default=None,
        pattern=CAMPAIGN_ID_PATTERN,
        description="Names the campaign and makes the request idempotent: sent again with the same id "
        "and the same content (template, options, recipients), it stores nothing and answers the "
        "campaign with `Idempotent-Replayed: true`; with other content it is refused (409). Default: "
        "a new id.",
    )

    def template_fields(self) -> dict[str, Any]:
        return dict(self.template.model_extra or {})

    def channel_model(self) -> type[Message]:
        return CHANNELS[self.template.type]


Recipient: TypeAlias = str | dict[str, str | int | float]


class CampaignRequest(CampaignOptions):
    """A campaign with its recipients inline: numbers, or objects with ``phone`` and variables."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "template": {
                        "type": "revicom_sms",
                        "sender_name": "SHOP",
                        "text": "Hi {name}, 20% off today",
                    },
                    "recipients": [
                        {"phone": "+79161234567", "name": "Ann"},
                        {"phone": "8 (916) 123-45-68", "name": "Bob"},
                    ],
                    "region": "RU",
                    "campaign_id": "spring-sale",
                }
            ]
        }
    )

    recipients: list[Recipient] = Field(min_length=1, max_length=100_000)
