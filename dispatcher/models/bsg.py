"""BSG One-API v2 single RCS message (``POST /api/messages/rcs/send``) and its SMS alternative.

Field names are the wire names (they are snake_case already), so the body is the model's dump with
the unset fields left out (``dispatcher.providers.bsg.wire_message``). Every rule of
BSG's RCS send page (docs/providers.md, BSG) is checked here; where the pages leave room, the strict reading
is taken and named in one constant or function below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, model_validator

from dispatcher.models.common import ChannelModel, Msisdn, StrictText, http_url_rule, rule_error
from dispatcher.segments import gsm7_septets, ucs2_units

PHONE_DIGITS_MIN, PHONE_DIGITS_MAX = 9, 15
REFERENCE_ID_PATTERN = re.compile(r"[A-Za-z0-9]{1,32}")
SENDER_MIN, SENDER_MAX = 1, 40
RCS_TEXT_MAX = 160
CARDS_MIN, CARDS_MAX = 1, 5
CARD_TEXT_MAX = 1000
URL_MAX = 1000
SUGGESTIONS_MAX = 2
SUGGESTION_TEXT_MAX = 25
POSTBACK_DATA_MAX = 25
VALIDITY_SECONDS_MIN, VALIDITY_SECONDS_MAX = 30, 86_400
VALIDITY_HOURS_MIN, VALIDITY_HOURS_MAX = 1, 72
SMS_TEXT_MAX_GSM7, SMS_TEXT_MAX_UCS2 = 765, 355
CALLBACK_URL_MAX = 100
#: Strict reading of "integer": a signed 64-bit one (the largest JSON integer our encoder and most
#: servers carry; a larger number made orjson raise while encoding the accepted message).
TARIFF_CODE_MAX = 2**63 - 1
#: "Up to 11 Latin letters or digits, up to 15 - only digits" (strict: ASCII letters, no spaces).
SMS_SENDER_PATTERN = re.compile(r"[A-Za-z0-9]{1,11}|[0-9]{1,15}")


def rcs_text_length(text: str) -> int:
    """Length as BSG counts RCS text: UTF-16 code units (the OpenAPI spec: simple emojis take 2).

    Strict reading: the same count is applied to card texts, for which the page only says "characters".
    """
    return ucs2_units(text)


def _text_length(low: int, high: int, what: str, measure: Callable[[str], int] = len) -> AfterValidator:
    def check(value: str) -> str:
        if not low <= measure(value) <= high:
            raise rule_error(f"{what} must be {low}..{high} characters long (BSG)")
        return value

    return AfterValidator(check)


def _count(low: int, high: int, what: str) -> AfterValidator:
    # Not Field(min_length=...): on tuples pydantic adds a bogus "too short" when an item is invalid.
    def check(value: tuple[object, ...]) -> tuple[object, ...]:
        if not low <= len(value) <= high:
            raise rule_error(f"{what} must have {low}..{high} items (BSG)")
        return value

    return AfterValidator(check)


def _matches(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if pattern.fullmatch(value) is None:
            raise rule_error(rule)
        return value

    return AfterValidator(check)


def _http_url(max_length: int, what: str) -> AfterValidator:
    """BSG's length limit, then the shared absolute http(s) URL rule (RFC 3986 characters, a valid
    port): the pages say only "URL", the strict reading is the URI standard the simulator checks too."""
    url_rule = http_url_rule(what)

    def check(value: str) -> str:
        if len(value) > max_length:
            raise rule_error(f"{what} must be at most {max_length} characters long (BSG)")
        return url_rule(value)

    return AfterValidator(check)


def _phone_digits(value: str) -> str:
    if not PHONE_DIGITS_MIN <= len(value) <= PHONE_DIGITS_MAX:
        raise rule_error(
            f"phone number must have {PHONE_DIGITS_MIN}..{PHONE_DIGITS_MAX} digits with the country code"
        )
    return value


#: An international number as BSG wants it: E.164 digits without ``+``, 9..15 of them.
BsgPhoneNumber = Annotated[Msisdn, AfterValidator(_phone_digits)]
ValiditySeconds = Annotated[StrictInt, Field(ge=VALIDITY_SECONDS_MIN, le=VALIDITY_SECONDS_MAX)]
ValidityHours = Annotated[StrictInt, Field(ge=VALIDITY_HOURS_MIN, le=VALIDITY_HOURS_MAX)]


def _one_validity_at_most(validity_seconds: int | None, validity: int | None) -> None:
    if validity_seconds is not None and validity is not None:
        raise rule_error("give validity_seconds or validity (hours), never both (BSG)")


class BsgPhone(ChannelModel):
    number: BsgPhoneNumber
    #: Our idempotency key: BSG refuses a second message with the same one (429).
    reference_id: (
        Annotated[
            StrictStr, _matches(REFERENCE_ID_PATTERN, "reference_id must be 1..32 letters or digits (BSG)")
        ]
        | None
    ) = None


class BsgMedia(ChannelModel):
    url: Annotated[StrictStr, _http_url(URL_MAX, "media.url")]


class BsgSuggestion(ChannelModel):
    """A button: a link (``url``) or a call (``phone``), never both.

    BSG's page shows suggestions without ``type``; its OpenAPI spec shows ``type`` ("link"/"call").
    Both forms are accepted and ``type`` reaches the wire only when the producer gave it, so either
    documented body is reproduced as written. ``kind`` is always known.
    """

    type: Literal["link", "call"] | None = None
    text: Annotated[StrictText, _text_length(1, SUGGESTION_TEXT_MAX, "suggestion text")]
    url: Annotated[StrictStr, _http_url(URL_MAX, "suggestion url")] | None = None
    phone: BsgPhoneNumber | None = None
    postback_data: (
        Annotated[StrictText, _text_length(1, POSTBACK_DATA_MAX, "suggestion postback_data")] | None
    ) = None

    @model_validator(mode="after")
    def _link_or_call(self) -> Self:
        if (self.url is None) == (self.phone is None):
            raise rule_error("a suggestion is a link (url) or a call (phone): give exactly one of them")
        if self.type is not None and self.type != self.kind:
            raise rule_error(f"a suggestion of type {self.type!r} must carry {_KIND_FIELD[self.type]}")
        return self

    @property
    def kind(self) -> Literal["link", "call"]:
        return "link" if self.url is not None else "call"


_KIND_FIELD = {"link": "url", "call": "phone"}


class BsgCard(ChannelModel):
    #: No rule is published for the title.
    title: StrictText | None = None
    #: Strict reading: every documented card has a text, so one is required.
    text: Annotated[StrictText, _text_length(1, CARD_TEXT_MAX, "card text", rcs_text_length)]
    media: BsgMedia | None = None
    suggestions: (
        Annotated[tuple[BsgSuggestion, ...], _count(0, SUGGESTIONS_MAX, "card suggestions")] | None
    ) = None


class BsgRcsOptions(ChannelModel):
    """The content: a text, or 1..5 cards (one card is a "single card", 2+ a carousel)."""

    text: Annotated[StrictText, _text_length(1, RCS_TEXT_MAX, "options.text", rcs_text_length)] | None = None
    cards: Annotated[tuple[BsgCard, ...], _count(CARDS_MIN, CARDS_MAX, "options.cards")] | None = None

    @model_validator(mode="after")
    def _text_or_cards(self) -> Self:
        if (self.text is None) == (self.cards is None):
            raise rule_error("options must have exactly one of text or cards (BSG)")
        return self

    @property
    def is_carousel(self) -> bool:
        return self.cards is not None and len(self.cards) > 1


def sms_text_fits(text: str) -> bool:
    """BSG's SMS limit: 765 GSM-7 characters (extension characters count two) or 355 UCS-2 units."""
    septets = gsm7_septets(text)
    if septets is not None:
        return septets <= SMS_TEXT_MAX_GSM7
    return ucs2_units(text) <= SMS_TEXT_MAX_UCS2


def _sms_text(value: str) -> str:
    if not value or not sms_text_fits(value):
        raise rule_error(
            f"SMS text must be 1..{SMS_TEXT_MAX_GSM7} GSM-7 characters, or 1..{SMS_TEXT_MAX_UCS2} "
            "UCS-2 characters when it needs UCS-2 (BSG)"
        )
    return value


class BsgSmsAlternative(ChannelModel):
    """The SMS BSG sends itself when the RCS message cannot be delivered within its validity."""

    text: Annotated[StrictText, AfterValidator(_sms_text)]
    sender: Annotated[
        StrictStr,
        _matches(SMS_SENDER_PATTERN, "SMS sender must be 1..11 Latin letters or digits, or 1..15 digits"),
    ]
    validity_seconds: ValiditySeconds | None = None
    validity: ValidityHours | None = None
    check_stop_list: StrictBool | None = None

    @model_validator(mode="after")
    def _validity(self) -> Self:
        # The page states "never both" for the RCS message; the same pair here gets the same rule.
        _one_validity_at_most(self.validity_seconds, self.validity)
        return self


class BsgAlternativeChannel(ChannelModel):
    sms: BsgSmsAlternative


class BsgRcs(ChannelModel):
    """One RCS message to one number. Unset optional fields take BSG's defaults (validity 72 h,
    add_to_contact_book and check_stop_list true)."""

    phone: BsgPhone
    sender: Annotated[StrictText, _text_length(SENDER_MIN, SENDER_MAX, "sender")]
    options: BsgRcsOptions
    validity_seconds: ValiditySeconds | None = None
    validity: ValidityHours | None = None
    alternative_channel: BsgAlternativeChannel | None = None
    callback_url: Annotated[StrictStr, _http_url(CALLBACK_URL_MAX, "callback_url")] | None = None
    add_to_contact_book: StrictBool | None = None
    #: Strict reading: a tariff "number" is not negative.
    tariff_code: Annotated[StrictInt, Field(ge=0, le=TARIFF_CODE_MAX)] | None = None
    check_stop_list: StrictBool | None = None

    @model_validator(mode="after")
    def _validity(self) -> Self:
        _one_validity_at_most(self.validity_seconds, self.validity)
        return self
