"""Hypothesis strategies of valid channel-model inputs, shared by the model property tests
(test_models_round_trip.py, test_models_refusals.py, test_models_unicode.py).
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
import phonenumbers
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dispatcher.models.bsg import BsgRcs
from dispatcher.models.revicom import (
    RevicomFlashCall,
    RevicomSms,
    RevicomVk,
    RevicomVoiceCode,
)
from dispatcher.models.revicom_fields import voicecode_text
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.providers import bsg, revicom_wire
from dispatcher.providers.smartswitch.request import recipient_group

BOUNDED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: The clock the scheduling windows are checked against (validation context ``now``).
NOW = datetime(2030, 6, 1, 12, 0, 0)


def _example_numbers() -> list[str]:
    """E.164 digits of phonenumbers' example mobile and fixed-line numbers, every region."""
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:])
    return sorted(found)


NUMBERS = _example_numbers()
BSG_NUMBERS = [number for number in NUMBERS if 9 <= len(number) <= 15]


def _written(digits: str, style: int) -> str:
    """The same number as a producer might write it."""
    grouped = " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
    return [digits, f"+{digits}", f"00{digits}", f"+{grouped}"][style]


numbers = st.sampled_from(NUMBERS)
written_numbers = st.tuples(numbers, st.integers(0, 3)).map(lambda pair: (pair[0], _written(*pair)))
#: Any Unicode text but lone surrogates (which JSON cannot carry; refused, see the tests at the end).
visible_text = st.text(min_size=1, max_size=200).filter(lambda s: bool(s.strip()) and "\ufeff" not in s)
names = st.text(min_size=1, max_size=30).filter(lambda s: bool(s.strip()))
tags = st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True)
http_urls = st.from_regex(
    r"https?://[a-z0-9]{1,12}(\.[a-z]{2,5})?(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~-]{1,12}){0,3}", fullmatch=True
)
flags = st.booleans()


def _unique(elements: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, min_size=1, max_size=max_size, unique=True)


def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


@st.composite
def _local_times(draw: st.DrawFn) -> dict[str, str]:
    """``local_send_time`` in (now - 12 h, now + 7 days), ``local_completion_time`` after it, within
    now + 70 days; either may be absent."""
    chosen: dict[str, str] = {}
    send = None
    if draw(st.booleans()):
        send = NOW + timedelta(seconds=draw(st.integers(-12 * 3600 + 1, 7 * 86400 - 1)))
        chosen["local_send_time"] = send.strftime("%Y-%m-%d %H:%M:%S")
    if draw(st.booleans()):
        start = send or NOW
        room = int((NOW + timedelta(days=70) - start).total_seconds())
        completion = start + timedelta(seconds=draw(st.integers(1, room)))
        chosen["local_completion_time"] = completion.strftime("%Y-%m-%d %H:%M:%S")
    return chosen


@st.composite
def _callbacks(draw: st.DrawFn) -> dict[str, Any]:
    if not draw(st.booleans()):
        return {}
    chosen: dict[str, Any] = {"callback_url": draw(http_urls)}
    if draw(st.booleans()):
        chosen["callback_events"] = draw(
            _unique(st.sampled_from(["sent", "delivered", "read", "price", "click"]), 5)
        )
    return chosen


def _revicom_common() -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(written_numbers, optional(tags=st.lists(tags, max_size=4)), _callbacks()).map(
        lambda parts: {"destination": parts[0][1], **parts[1], **parts[2]}
    )


def _scheduled(ttl_low: int) -> st.SearchStrategy[dict[str, Any]]:
    options = optional(
        use_local_time=flags,
        ttl_s=st.integers(ttl_low, 86400),
        hours=_unique(st.integers(0, 23), 24),
        days=_unique(st.integers(1, 7), 7),
        short_url=flags,
    )
    return st.tuples(options, _local_times()).map(lambda parts: {**parts[0], **parts[1]})


def _merged(*parts: st.SearchStrategy[dict[str, Any]], **fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    def merge(dicts: tuple[dict[str, Any], ...]) -> dict[str, Any]:
        merged: dict[str, Any] = dict(fixed)
        for part in dicts:
            merged.update(part)
        return merged

    return st.tuples(*parts).map(merge)


revicom_sms = _merged(
    _revicom_common(),
    _scheduled(60),
    st.fixed_dictionaries({"sender_name": names, "text": visible_text}),
    channel="SMS",
)
revicom_vk = _merged(
    _revicom_common(),
    _scheduled(60),
    st.fixed_dictionaries({"sender_name": names, "text": visible_text}),
    channel="VK",
)
brands = st.text(min_size=1, max_size=40).filter(
    lambda s: "\n" not in s and not s[0].isspace() and not s[-1].isspace() and "\ufeff" not in s
)
revicom_voicecode = _merged(
    _revicom_common(),
    st.builds(
        voicecode_text,
        brands,
        st.from_regex(r"[0-9]{4}", fullmatch=True),
        st.sampled_from(["plain", "spaced", "dashed"]),
    ).map(lambda text: {"text": text}),
    optional(ttl_s=st.integers(30, 86400), external_message_id=st.text(min_size=1, max_size=100)),
    channel="VOICECODE",
)
revicom_flashcall = _merged(
    _revicom_common(),
    st.fixed_dictionaries({"sender_name": names, "code": st.from_regex(r"[0-9]{4}", fullmatch=True)}),
    channel="FLASHCALL",
)
revicom_messages = st.one_of(revicom_sms, revicom_vk, revicom_voicecode, revicom_flashcall)


# ---- BSG -----------------------------------------------------------------------------------------

rcs_texts = st.text(min_size=1, max_size=80)  # <= 160 UTF-16 units whatever the characters
card_texts = st.text(min_size=1, max_size=500)  # <= 1000 UTF-16 units
gsm7_texts = st.text(alphabet=string.ascii_letters + string.digits + " .,!?@", min_size=1, max_size=300)
links = st.fixed_dictionaries(
    {"text": st.text(min_size=1, max_size=12), "url": http_urls},
    optional={"type": st.just("link"), "postback_data": st.text(min_size=1, max_size=12)},
)
calls = st.fixed_dictionaries(
    {"text": st.text(min_size=1, max_size=12), "phone": st.sampled_from(BSG_NUMBERS)},
    optional={"type": st.just("call")},
)
cards = st.fixed_dictionaries(
    {"text": card_texts},
    optional={
        "title": st.text(max_size=40),
        "media": st.fixed_dictionaries({"url": http_urls}),
        "suggestions": st.lists(st.one_of(links, calls), max_size=2),
    },
)
validities = st.one_of(
    st.just({}),
    st.integers(30, 86_400).map(lambda s: {"validity_seconds": s}),
    st.integers(1, 72).map(lambda h: {"validity": h}),
)
sms_alternatives = _merged(
    st.fixed_dictionaries(
        {
            "text": st.one_of(gsm7_texts, st.text(min_size=1, max_size=170)),
            "sender": st.from_regex(r"[A-Za-z0-9]{1,11}|[0-9]{1,15}", fullmatch=True),
        },
        optional={"check_stop_list": flags},
    ),
    validities,
)
bsg_messages = _merged(
    st.fixed_dictionaries(
        {
            "phone": st.fixed_dictionaries(
                {"number": st.sampled_from(BSG_NUMBERS)},
                optional={"reference_id": st.from_regex(r"[A-Za-z0-9]{1,32}", fullmatch=True)},
            ),
            "sender": st.text(min_size=1, max_size=40),
            "options": st.one_of(
                st.fixed_dictionaries({"text": rcs_texts}),
                st.fixed_dictionaries({"cards": st.lists(cards, min_size=1, max_size=5)}),
            ),
        },
        optional={
            "alternative_channel": st.fixed_dictionaries({"sms": sms_alternatives}),
            "callback_url": http_urls,
            "add_to_contact_book": flags,
            "tariff_code": st.integers(0, 10**6),
            "check_stop_list": flags,
        },
    ),
    validities,
)


# ---- one valid message per model, and the adapters' serialisation of a message ----------------

REVICOM_BASES: dict[type[Any], dict[str, Any]] = {
    RevicomSms: {"destination": "14085553911", "sender_name": "SENDER", "text": "Message Text"},
    RevicomVoiceCode: {"destination": "14085553911", "text": "Код авторизации от revicom: 3 4 5 6"},
    RevicomFlashCall: {"destination": "14085553911", "sender_name": "any sender", "code": "1234"},
    RevicomVk: {"destination": "14085553911", "sender_name": "group", "text": "Привет"},
}
SMARTSWITCH_BASE = {"destination_number": "12123388100", "body": "test"}
BSG_BASE = {"phone": {"number": "380661231231"}, "sender": "BSG", "options": {"text": "hi"}}
ALL_BASES: dict[type[Any], dict[str, Any]] = {
    **REVICOM_BASES,
    SmartswitchSms: SMARTSWITCH_BASE,
    BsgRcs: BSG_BASE,
}


def wire_bytes(message: Any) -> bytes:
    """The message as its provider's adapter serialises it (no ids of ours added)."""
    if isinstance(message, BsgRcs):
        return orjson.dumps(bsg.wire_message(message))
    if isinstance(message, SmartswitchSms):
        return urlencode(recipient_group(message)).encode()
    return orjson.dumps(revicom_wire.wire_message(message))
