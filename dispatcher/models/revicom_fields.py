"""Field types and rules shared by the Revicom Direct channel models (see ``revicom.py``).

Each type carries its rule: a value that breaks it raises a pydantic error whose text IS the rule, so
``build()`` reports field, value and rule. Rules come from Revicom's public pages
(docs/providers.md, Revicom: "Sending SMS", "Sending VOICECODE" and the rest); where the docs are
unclear, the strict reading is taken and named here.

The scheduling windows depend on the current time. Validation reads it from the pydantic validation
context (``{"now": <naive UTC datetime>}``) when one is given, so tests and callers can pin the clock;
``{"time_windows": False}`` skips those checks when re-reading a message that was valid when accepted
(a stored message whose send time has since passed must still load).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StrictInt, StrictStr, ValidationInfo

from dispatcher.models.common import Text, http_url_rule, rule_error, unicode_text

NOW_CONTEXT_KEY = "now"
TIME_WINDOWS_CONTEXT_KEY = "time_windows"

SMS_TTL_RANGE_S = (60, 86400)
VK_TTL_RANGE_S = (60, 86400)
VOICECODE_TTL_RANGE_S = (30, 86400)
VK_TEXT_MAX_CHARS = 2048
VOICECODE_TEXT_MAX_CHARS = 1000
EXTERNAL_MESSAGE_ID_MAX_CHARS = 100
FLASHCALL_CODE_DIGITS = 4

#: localSendTime lies in (now UTC - 12 h, now UTC + 7 days); localCompletionTime up to now UTC + 70 days.
SEND_TIME_EARLIEST_H = 12
SEND_TIME_LATEST_DAYS = 7
COMPLETION_TIME_LATEST_DAYS = 70
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_LOCAL_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

#: The docs write ``^\w+$`` and explain it as "any case letters, numbers and underscore": Python's
#: ``\w`` would also admit non-ASCII letters, so the explanation (ASCII) is the rule we keep.
_TAG = re.compile(r"[A-Za-z0-9_]+")

CallbackEvent = Literal["sent", "delivered", "read", "price", "click"]

H = TypeVar("H", bound=Hashable)


def _between(low: int, high: int, rule: str) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise rule_error(rule)
        return value

    return check


def _ttl_rule(low_high: tuple[int, int], channel: str) -> AfterValidator:
    low, high = low_high
    return AfterValidator(_between(low, high, f"ttl must be {low}..{high} seconds for Revicom {channel}"))


SmsTtl = Annotated[StrictInt, _ttl_rule(SMS_TTL_RANGE_S, "SMS")]
VkTtl = Annotated[StrictInt, _ttl_rule(VK_TTL_RANGE_S, "VK")]
VoiceCodeTtl = Annotated[StrictInt, _ttl_rule(VOICECODE_TTL_RANGE_S, "VOICECODE")]


def _unique_nonempty(what: str) -> Callable[[tuple[H, ...]], tuple[H, ...]]:
    def check(values: tuple[H, ...]) -> tuple[H, ...]:
        if not values:
            # Strict reading: the docs do not say what an empty list means (never? always?).
            raise rule_error(f"{what} must list at least one value (leave the field out for no limit)")
        if len(set(values)) != len(values):
            raise rule_error(f"{what} values must be unique")
        return values

    return check


Hour = Annotated[StrictInt, AfterValidator(_between(0, 23, "each hour must be an integer 0..23"))]
Day = Annotated[
    StrictInt, AfterValidator(_between(1, 7, "each day must be an integer 1 (Monday)..7 (Sunday)"))
]
Hours = Annotated[tuple[Hour, ...], AfterValidator(_unique_nonempty("hours"))]
Days = Annotated[tuple[Day, ...], AfterValidator(_unique_nonempty("days"))]


def _tag(value: str) -> str:
    if not _TAG.fullmatch(value):
        raise rule_error(r"each tag must match ^\w+$: ASCII letters, digits and '_' only, not empty")
    return value


Tag = Annotated[str, AfterValidator(_tag)]


def is_valid_tag(value: str) -> bool:
    """Whether ``value`` may be sent as a Revicom tag (the adapter checks its request tags with it)."""
    return bool(_TAG.fullmatch(value))


#: RFC 3986 characters only (ASCII), so the Unicode text rule is implied.
CallbackUrl = Annotated[str, AfterValidator(http_url_rule("callback URL"))]
CallbackEvents = Annotated[tuple[CallbackEvent, ...], AfterValidator(_unique_nonempty("callback_events"))]


def _text_rule(*, max_chars: int | None) -> Callable[[str], str]:
    limit = f", at most {max_chars} characters" if max_chars else ""

    def check(value: str) -> str:
        if not value.strip():
            raise rule_error(f"text must not be empty or only whitespace{limit}")
        if max_chars is not None and len(value) > max_chars:
            raise rule_error(f"text must be 1..{max_chars} characters")
        if "\ufeff" in value:
            # Strict reading of "UTF-8 without Byte Order Mark": U+FEFF is refused anywhere.
            raise rule_error("text must be UTF-8 without a byte order mark (U+FEFF)")
        return value

    return check


SmsText = Annotated[Text, AfterValidator(_text_rule(max_chars=None))]
VkText = Annotated[Text, AfterValidator(_text_rule(max_chars=VK_TEXT_MAX_CHARS))]


def _sender_name(value: str) -> str:
    # FLASHCALL's page says "any string", VK's "any non-empty string"; a blank sender is refused for
    # every channel (strict reading), SMS names must also be approved by the provider (checked there).
    if not value.strip():
        raise rule_error("sender name must not be empty or only whitespace")
    return value


SenderName = Annotated[Text, AfterValidator(_sender_name)]


def _external_message_id(value: str) -> str:
    if not 1 <= len(value) <= EXTERNAL_MESSAGE_ID_MAX_CHARS:
        raise rule_error(f"external message id must be 1..{EXTERNAL_MESSAGE_ID_MAX_CHARS} characters")
    return value


ExternalMessageId = Annotated[Text, AfterValidator(_external_message_id)]


def _flashcall_code(value: str) -> str:
    if not (len(value) == FLASHCALL_CODE_DIGITS and value.isascii() and value.isdigit()):
        raise rule_error(f"FLASHCALL code must be exactly {FLASHCALL_CODE_DIGITS} digits 0-9")
    return value


FlashCallCode = Annotated[str, AfterValidator(_flashcall_code)]


def _parse_local_time(value: object) -> object:
    if isinstance(value, str):
        if not _LOCAL_TIME_SHAPE.fullmatch(value):
            raise rule_error("must be a local time 'YYYY-MM-DD hh:mm:ss'")
        try:
            return datetime.strptime(value, LOCAL_TIME_FORMAT)
        except ValueError:
            raise rule_error("must be a real date and time 'YYYY-MM-DD hh:mm:ss'") from None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise rule_error(
                "must be a wall-clock time without a time zone (the subscriber's, or Moscow time "
                "when use_local_time is false)"
            )
        # The wire format has whole seconds.
        return value.replace(microsecond=0)
    raise rule_error("must be a local time 'YYYY-MM-DD hh:mm:ss' or a naive datetime")


def format_local_time(value: datetime) -> str:
    return value.strftime(LOCAL_TIME_FORMAT)


#: A wall-clock time as Revicom's ``localSendTime``/``localCompletionTime`` want it (no time zone).
LocalTime = Annotated[
    datetime,
    BeforeValidator(_parse_local_time),
    PlainSerializer(format_local_time, return_type=str, when_used="json"),
]


def checks_time_windows(info: ValidationInfo) -> bool:
    context = info.context
    return not (isinstance(context, Mapping) and context.get(TIME_WINDOWS_CONTEXT_KEY) is False)


def utc_now(info: ValidationInfo) -> datetime:
    """Now in UTC as a naive datetime (the provider compares wall-clock times with UTC)."""
    context = info.context
    if isinstance(context, Mapping):
        pinned = context.get(NOW_CONTEXT_KEY)
        if isinstance(pinned, datetime):
            return pinned.astimezone(UTC).replace(tzinfo=None) if pinned.tzinfo else pinned
    return datetime.now(UTC).replace(tzinfo=None)


#: The only VOICECODE text the provider accepts without a manager's approval of another template.
VOICECODE_TEMPLATE = "Код авторизации от {brand}: {code}"
#: Unconfirmed: the docs show only four-digit codes (1234, 1 2 3 4, 1-2-3-4); widen here if allowed.
VOICECODE_CODE_DIGITS = frozenset({4})
VoiceCodeStyle = Literal["plain", "spaced", "dashed"]
VOICECODE_CODE_SEPARATORS: dict[VoiceCodeStyle, str] = {"plain": "", "spaced": " ", "dashed": "-"}
_VOICECODE_TEXT = re.compile(r"Код авторизации от (?P<brand>\S(?:.*\S)?): (?P<code>[0-9](?:[ -]?[0-9])*)")
_VOICECODE_RULE = (
    f"text must be '{VOICECODE_TEMPLATE}' with a code of "
    f"{'/'.join(str(n) for n in sorted(VOICECODE_CODE_DIGITS))} digits written as 1234, 1 2 3 4 or 1-2-3-4, "
    f"1..{VOICECODE_TEXT_MAX_CHARS} characters"
)


def _voicecode_code_ok(code: str) -> bool:
    digits = code.replace(" ", "").replace("-", "")
    return len(digits) in VOICECODE_CODE_DIGITS and any(
        code == separator.join(digits) for separator in VOICECODE_CODE_SEPARATORS.values()
    )


def _voicecode_text(value: str) -> str:
    match = _VOICECODE_TEXT.fullmatch(value)
    if len(value) > VOICECODE_TEXT_MAX_CHARS or match is None or not _voicecode_code_ok(match["code"]):
        raise rule_error(_VOICECODE_RULE)
    return value


VoiceCodeText = Annotated[Text, AfterValidator(_voicecode_text)]


#: The longest brand that fits the text with any code style (a dashed code is 2n - 1 characters).
VOICECODE_BRAND_MAX_CHARS = (
    VOICECODE_TEXT_MAX_CHARS
    - len(VOICECODE_TEMPLATE.format(brand="", code=""))
    - (2 * max(VOICECODE_CODE_DIGITS) - 1)
)
VOICECODE_CODE_RULE = (
    f"must be {'/'.join(str(n) for n in sorted(VOICECODE_CODE_DIGITS))} digits 0-9 (the style spaces or "
    "dashes them when read out)"
)
VOICECODE_BRAND_RULE = (
    f"must be 1..{VOICECODE_BRAND_MAX_CHARS} characters on one line, not starting or ending with a space"
)


def voicecode_code(code: str) -> str:
    """``code`` if it is a voice code's digits (``VOICECODE_CODE_RULE``)."""
    if not (code.isascii() and code.isdigit() and len(code) in VOICECODE_CODE_DIGITS):
        raise rule_error(VOICECODE_CODE_RULE)
    return code


def voicecode_brand(brand: str) -> str:
    """``brand`` if it can stand in the template (``VOICECODE_BRAND_RULE``)."""
    if not 0 < len(brand) <= VOICECODE_BRAND_MAX_CHARS or brand != brand.strip() or not brand.isprintable():
        raise rule_error(VOICECODE_BRAND_RULE)
    return brand


#: A voice code's digits, and the brand read out before them (checked before the text is made, so
#: a bad code is named as the code, not as a sentence the caller never wrote).
VoiceCodeDigits = Annotated[StrictStr, AfterValidator(voicecode_code)]
VoiceCodeBrand = Annotated[StrictStr, AfterValidator(unicode_text), AfterValidator(voicecode_brand)]


def voicecode_text(brand: str, code: str, style: VoiceCodeStyle = "plain") -> str:
    """The template filled in: ``voicecode_text("revicom", "3456", "spaced")`` -> ``...revicom: 3 4 5 6``.
    ``brand`` and ``code`` are taken as they are: check them with ``VoiceCodeBrand``/``VoiceCodeDigits``."""
    return VOICECODE_TEMPLATE.format(brand=brand, code=VOICECODE_CODE_SEPARATORS[style].join(code))
