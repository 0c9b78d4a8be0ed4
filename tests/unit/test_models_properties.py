"""Property tests of every channel model (Revicom SMS/VOICECODE/FLASHCALL/VK, Smartswitch SMS, BSG RCS).

Valid messages drawn at random survive the trip to the provider's wire format and back (serialised
the way the adapters do it, parsed back by an independent reading of the wire names); every broken
rule, drawn at random, is an ``InvalidMessage`` naming the field, the value and the rule; random
JSON never raises anything but ``InvalidMessage``. The example-based rule tests live in
test_revicom_models.py, test_bsg_model.py and test_smartswitch_model.py.
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatcher.accounts import SmartswitchAccount
from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgPhone, BsgRcs, BsgRcsOptions
from dispatcher.models.common import build
from dispatcher.models.revicom import (
    RevicomFlashCall,
    RevicomMessage,
    RevicomSms,
    RevicomVk,
    RevicomVoiceCode,
    build_revicom_message,
)
from dispatcher.models.revicom_fields import voicecode_text
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.phone import normalize_msisdn
from dispatcher.producer.encoding import encode_wire
from dispatcher.providers import bsg, revicom_wire
from dispatcher.providers.smartswitch.request import recipient_group

BOUNDED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: The clock the scheduling windows are checked against (validation context ``now``).
NOW = datetime(2030, 6, 1, 12, 0, 0)
#: Longer than any generated tag, so it can never be one of the message's own tags.
REQUEST_TAG = "request_tag_" + "x" * 20


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


def _optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
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
    return st.tuples(written_numbers, _optional(tags=st.lists(tags, max_size=4)), _callbacks()).map(
        lambda parts: {"destination": parts[0][1], **parts[1], **parts[2]}
    )


def _scheduled(ttl_low: int) -> st.SearchStrategy[dict[str, Any]]:
    options = _optional(
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
    _optional(ttl_s=st.integers(30, 86400), external_message_id=st.text(min_size=1, max_size=100)),
    channel="VOICECODE",
)
revicom_flashcall = _merged(
    _revicom_common(),
    st.fixed_dictionaries({"sender_name": names, "code": st.from_regex(r"[0-9]{4}", fullmatch=True)}),
    channel="FLASHCALL",
)
revicom_messages = st.one_of(revicom_sms, revicom_vk, revicom_voicecode, revicom_flashcall)

# ---- Revicom: wire and back ----------------------------------------------------------------------

#: Revicom's wire names of the optional fields (revicom-sms.txt, revicom-voicecode.txt), read anew
#: here rather than taken from the module under test.
REVICOM_WIRE_NAMES = {
    "externalMessageId": "external_message_id",
    "localSendTime": "local_send_time",
    "localCompletionTime": "local_completion_time",
    "useLocalTime": "use_local_time",
    "ttl": "ttl_s",
    "hours": "hours",
    "days": "days",
    "shortUrl": "short_url",
    "callbackUrl": "callback_url",
    "callbackEvents": "callback_events",
    "tags": "tags",
}
REVICOM_REQUIRED_WIRE = {"channelType", "senderName", "destination", "content"}


def revicom_sent_item(message: RevicomMessage) -> dict[str, Any]:
    """The message's item of the request body, as the worker sends a stored wire item."""
    stored = orjson.dumps(revicom_wire.wire_message(message))
    body = revicom_wire.tagged_body([stored], REQUEST_TAG)
    # The other path (whole batch encoded at once) must send the very same bytes.
    assert body == revicom_wire.encode_batch(revicom_wire.wire_batch([message], REQUEST_TAG))
    [item] = orjson.loads(body)
    assert isinstance(item, dict)
    return item


def revicom_fields_from_wire(item: dict[str, Any]) -> dict[str, Any]:
    assert set(item) >= REVICOM_REQUIRED_WIRE
    assert set(item) <= REVICOM_REQUIRED_WIRE | set(REVICOM_WIRE_NAMES), item
    assert None not in item.values(), "unset fields are left out, never sent as null"
    channel = item["channelType"]
    fields: dict[str, Any] = {
        "channel": channel,
        "sender_name": item["senderName"],
        "destination": item["destination"],
    }
    content = item["content"]
    if channel == "VOICECODE":
        assert set(content) == {"contentType", "text"}
        assert content["contentType"] == "text"
        fields["text"] = content["text"]
    elif channel == "FLASHCALL":
        fields["code"] = content
    else:
        fields["text"] = content
    for wire_name, field in REVICOM_WIRE_NAMES.items():
        if wire_name in item:
            fields[field] = item[wire_name]
    own_tags = [tag for tag in fields.pop("tags") if tag != REQUEST_TAG]
    assert fields.get("callback_events", ["x"]), "an empty events list is never sent"
    if own_tags:
        fields["tags"] = own_tags
    return fields


@BOUNDED
@given(revicom_messages)
def test_any_valid_revicom_message_survives_the_wire_and_back(data: dict[str, Any]) -> None:
    message = build_revicom_message(data, context={"now": NOW})
    item = revicom_sent_item(message)

    assert item["destination"] == normalize_msisdn(data["destination"])
    assert item["destination"].isdigit()
    assert item["tags"][-1] == REQUEST_TAG
    again = build_revicom_message(revicom_fields_from_wire(item), context={"now": NOW})
    assert again == message


@BOUNDED
@given(written_numbers)
def test_every_way_of_writing_a_number_reaches_the_wire_as_its_e164_digits(number: tuple[str, str]) -> None:
    digits, written = number
    for model, data in (
        (RevicomSms, {"destination": written, "sender_name": "S", "text": "t"}),
        (SmartswitchSms, {"destination_number": written, "body": "t"}),
    ):
        assert build(model, data).model_dump()[next(iter(data))] == digits


# ---- Smartswitch ---------------------------------------------------------------------------------


@st.composite
def smartswitch_messages(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"destination_number": draw(written_numbers)[1]}
    if draw(st.booleans()):
        data["stealth_ping"] = draw(flags)
    if not data.get("stealth_ping", False):
        data["body"] = draw(visible_text)
    sender = draw(st.sampled_from(["none", "name", "number"]))
    if sender == "name":
        data["source_name"] = draw(st.from_regex(r"[A-Za-z0-9]{0,10}[A-Za-z]", fullmatch=True))
    elif sender == "number":
        data["source_number"] = draw(st.from_regex(r"[0-9]{1,15}", fullmatch=True))
    data.update(
        draw(_optional(require_dlr=flags, request_id=st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)))
    )
    return data


def smartswitch_fields_from_query(query: str) -> dict[str, Any]:
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), "one recipient group names each parameter once"
    fields: dict[str, Any] = dict(pairs)
    for flag in ("require_dlr", "stealth_ping"):
        if flag in fields:
            assert fields[flag] in ("0", "1")
            fields[flag] = fields[flag] == "1"
    return fields


@BOUNDED
@given(smartswitch_messages())
def test_any_valid_smartswitch_message_survives_the_query_string_and_back(data: dict[str, Any]) -> None:
    message = build(SmartswitchSms, data)
    group = recipient_group(message)
    # Stored as JSON at intake, read back by the worker, form-encoded into the URL by requests.
    stored = [(str(name), str(value)) for name, value in orjson.loads(orjson.dumps(group))]
    query = urlencode(stored)

    assert stored == group
    assert group[0] == ("destination_number", message.destination_number)
    assert build(SmartswitchSms, smartswitch_fields_from_query(query)) == message


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


@BOUNDED
@given(bsg_messages)
def test_any_valid_bsg_message_survives_the_json_body_and_back(data: dict[str, Any]) -> None:
    message = build(BsgRcs, data)
    body = orjson.dumps(bsg.wire_message(message))
    wire = orjson.loads(body)

    assert not _holds_none(wire), "unset fields are left out, never sent as null"
    assert wire["phone"]["number"] == message.phone.number
    assert build(BsgRcs, wire) == message


def _holds_none(value: Any) -> bool:
    if isinstance(value, dict):
        return any(item is None or _holds_none(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_none(item) for item in value)
    return False


# ---- every broken rule is InvalidMessage(field, value, rule) -------------------------------------

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

not_numbers = st.one_of(
    st.from_regex(r"\+?[0-9]{1,5}", fullmatch=True),
    st.from_regex(r"\+?[0-9]{17,40}", fullmatch=True),
    st.text(alphabet=string.ascii_letters + " -()", max_size=20),
)
blank = st.text(alphabet=" \t\r\n\u00a0\u2003\u3000", max_size=5)
not_tags = st.text(min_size=0, max_size=10).filter(
    lambda s: not (s and s.isascii() and s.replace("_", "").isalnum())
)
not_ints = st.one_of(
    st.floats(allow_nan=False), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2)
)
not_bools = st.one_of(st.integers(), st.sampled_from(["true", "false", "1", "0", "yes", ""]), st.just([]))
outside_sms_ttl = st.one_of(st.integers(max_value=59), st.integers(min_value=86401))
not_four_digits = st.text(max_size=8).filter(lambda s: not (len(s) == 4 and s.isascii() and s.isdigit()))
bad_events = st.text(max_size=10).filter(lambda s: s not in {"sent", "delivered", "read", "price", "click"})
bad_urls = st.one_of(
    st.from_regex(r"(ftp|file|mailto|javascript):[a-z/]{1,20}", fullmatch=True),
    st.from_regex(r"[a-z]{1,10}\.[a-z]{2,4}/[a-z]{0,10}", fullmatch=True),
    st.just("https:///x"),
)

# (model, field changed, strategy of a value breaking it, words of the rule)
VIOLATIONS: list[tuple[type[Any], str, st.SearchStrategy[Any], str]] = [
    *[(model, "destination", not_numbers, "valid phone number") for model in REVICOM_BASES],
    *[
        (model, "destination", st.one_of(st.integers(), st.none(), st.lists(st.text())), "valid string")
        for model in REVICOM_BASES
    ],
    *[
        (model, "sender_name", blank, "must not be empty")
        for model in (RevicomSms, RevicomFlashCall, RevicomVk)
    ],
    (RevicomSms, "text", blank, "text must not be empty"),
    (RevicomVk, "text", blank, "text must not be empty"),
    (RevicomSms, "text", st.text(min_size=1).map(lambda s: f"a{s}\ufeff"), "byte order mark"),
    (
        RevicomVk,
        "text",
        st.tuples(st.integers(2049, 2200), visible_text).map(lambda p: ("я" * p[0] + p[1])[: p[0]]),
        "1..2048",
    ),
    (RevicomVoiceCode, "text", st.text(max_size=50), "text must be 'Код авторизации от {brand}: {code}'"),
    (RevicomVoiceCode, "sender_name", st.text(max_size=10).filter(lambda s: s != "voicecode"), "'voicecode'"),
    (RevicomVoiceCode, "external_message_id", st.text(min_size=101, max_size=150), "1..100"),
    (RevicomSms, "ttl_s", outside_sms_ttl, "60..86400"),
    (RevicomVk, "ttl_s", outside_sms_ttl, "60..86400"),
    (
        RevicomVoiceCode,
        "ttl_s",
        st.one_of(st.integers(max_value=29), st.integers(min_value=86401)),
        "30..86400",
    ),
    *[(model, "ttl_s", not_ints, "integer") for model in (RevicomSms, RevicomVk, RevicomVoiceCode)],
    (RevicomFlashCall, "code", not_four_digits, "exactly 4 digits"),
    (RevicomFlashCall, "ttl_s", st.integers(60, 600), "Extra inputs are not permitted"),
    *[(model, "use_local_time", not_bools, "boolean") for model in (RevicomSms, RevicomVk)],
    *[(model, "short_url", not_bools, "boolean") for model in (RevicomSms, RevicomVk)],
    (RevicomSms, "callback_url", bad_urls, "callback URL"),
    (SmartswitchSms, "destination_number", not_numbers, "valid phone number"),
    (SmartswitchSms, "body", blank, "visible text"),
    (
        SmartswitchSms,
        "source_name",
        st.text(max_size=20).filter(
            lambda s: not (s.isascii() and s.isalnum() and 1 <= len(s) <= 11 and not s.isdigit())
        ),
        "alphanumeric sender",
    ),
    (
        SmartswitchSms,
        "source_number",
        st.text(max_size=20).filter(lambda s: not (s.isascii() and s.isdigit() and 1 <= len(s) <= 15)),
        "sender number",
    ),
    (
        SmartswitchSms,
        "request_id",
        st.one_of(
            st.just(""),
            st.text(alphabet="!@#$%^&* /é", min_size=1, max_size=5),
            st.text(alphabet="ab", min_size=65, max_size=80),
        ),
        "1..64 characters",
    ),
    (SmartswitchSms, "require_dlr", not_bools, "boolean"),
    (BsgRcs, "sender", st.one_of(st.just(""), st.text(min_size=41, max_size=60)), "1..40"),
    (
        BsgRcs,
        "validity_seconds",
        st.one_of(st.integers(max_value=29), st.integers(min_value=86_401)),
        "than or equal to",
    ),
    (BsgRcs, "validity", st.one_of(st.integers(max_value=0), st.integers(min_value=73)), "than or equal to"),
    (BsgRcs, "tariff_code", st.integers(max_value=-1), "greater than or equal to 0"),
    (BsgRcs, "callback_url", http_urls.map(lambda url: url + "/" + "p" * 100), "at most 100"),
    (BsgRcs, "callback_url", bad_urls, "absolute http"),
    (BsgRcs, "add_to_contact_book", not_bools, "boolean"),
]


def _problem(model: type[Any], data: Any, field: str) -> Problem:
    with pytest.raises(InvalidMessage) as caught:
        build(model, data)
    matching = [problem for problem in caught.value.problems if problem.field == field]
    assert matching, f"no problem names {field}: {caught.value.problems}"
    assert all(problem.rule for problem in caught.value.problems)
    return matching[0]


@pytest.mark.parametrize(
    ("model", "field", "values", "rule"),
    VIOLATIONS,
    ids=[f"{model.__name__}.{field}-{rule[:20]}" for model, field, _, rule in VIOLATIONS],
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_broken_rule_is_refused_naming_field_value_and_rule(
    model: type[Any], field: str, values: st.SearchStrategy[Any], rule: str, data: st.DataObject
) -> None:
    value = data.draw(values)
    problem = _problem(model, {**ALL_BASES[model], field: value}, field)

    assert problem.value == value
    assert rule in problem.rule, problem


@pytest.mark.parametrize(
    ("field", "values", "rule"),
    [
        ("phone", not_numbers.map(lambda n: {"number": n}), "phone number"),
        (
            "phone",
            st.from_regex(r"[A-Za-z0-9]{33,40}|[a-z]{0,5}[-_ !][a-z]{0,5}", fullmatch=True).map(
                lambda r: {"number": "380661231231", "reference_id": r}
            ),
            "reference_id",
        ),
        ("options", rcs_texts.map(lambda t: {"text": t * 3 + "x" * 161}), "1..160"),
        (
            "options",
            st.lists(st.fixed_dictionaries({"text": st.just("c")}), min_size=6, max_size=8).map(
                lambda c: {"cards": c}
            ),
            "1..5",
        ),
        ("options", st.just({}), "exactly one of text or cards"),
        (
            "alternative_channel",
            st.integers(766, 900).map(lambda n: {"sms": {"text": "ab" * n, "sender": "S"}}),
            "765",
        ),
        (
            "alternative_channel",
            st.integers(356, 400).map(lambda n: {"sms": {"text": "я" * n, "sender": "S"}}),
            "355",
        ),
    ],
)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_broken_nested_bsg_rule_names_the_path_inside(
    field: str, values: st.SearchStrategy[Any], rule: str, data: st.DataObject
) -> None:
    value = data.draw(values)
    with pytest.raises(InvalidMessage) as caught:
        build(BsgRcs, {**BSG_BASE, field: value})

    [problem] = caught.value.problems
    assert problem.field == field or problem.field.startswith(f"{field}.")
    assert rule in problem.rule
    # The value named is the one found at that path of what was given.
    found: Any = {field: value}
    for part in problem.field.split("."):
        found = found[int(part)] if isinstance(found, list) else found[part]
    assert problem.value == found


@pytest.mark.parametrize("model", list(ALL_BASES), ids=lambda model: model.__name__)
def test_every_missing_required_field_is_named(model: type[Any]) -> None:
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    assert required
    for field in required:
        data = {name: value for name, value in ALL_BASES[model].items() if name != field}
        problem = _problem(model, data, field)
        assert problem.rule == "Field required"


@BOUNDED
@given(
    st.sampled_from(list(ALL_BASES)),
    st.text(min_size=1, max_size=20),
    st.integers(),
)
def test_an_unknown_field_is_refused_by_every_model(model: type[Any], name: str, value: int) -> None:
    if name in model.model_fields:
        return
    problem = _problem(model, {**ALL_BASES[model], name: value}, name)
    assert problem.value == value
    assert "Extra inputs are not permitted" in problem.rule


# ---- random JSON: InvalidMessage or a valid message, nothing else --------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = sorted(
    {name for model in ALL_BASES for name in model.model_fields} | {"number", "text", "cards", "sms"}
)


@st.composite
def near_messages(draw: st.DrawFn) -> Any:
    """A valid base with random fields replaced, added or removed, or random JSON outright."""
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    model = draw(st.sampled_from(list(ALL_BASES)))
    data = dict(ALL_BASES[model])
    for name in draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=4)):
        if draw(st.booleans()):
            data[name] = draw(json_values)
        else:
            data.pop(name, None)
    if model in REVICOM_BASES and draw(st.booleans()):
        data["channel"] = draw(st.sampled_from(["SMS", "VOICECODE", "FLASHCALL", "VK"]) | json_values)
    return data


def _wire_bytes(message: Any) -> bytes:
    if isinstance(message, BsgRcs):
        return orjson.dumps(bsg.wire_message(message))
    if isinstance(message, SmartswitchSms):
        return urlencode(recipient_group(message)).encode()
    return orjson.dumps(revicom_wire.wire_message(message))


@FUZZ
@given(near_messages())
def test_random_json_is_a_valid_message_or_invalid_message_never_another_error(data: Any) -> None:
    refusals: list[InvalidMessage] = []
    for model in [*ALL_BASES, None]:
        try:
            message = (
                build_revicom_message(data, context={"now": NOW}) if model is None else build(model, data)
            )
        except InvalidMessage as exc:
            refusals.append(exc)
            continue
        # Accepted: it must also go on the wire.
        assert _wire_bytes(message)
    problems = [problem for refusal in refusals for problem in refusal.problems]
    assert all(refusal.problems for refusal in refusals)
    assert all(isinstance(p.field, str) and p.field and p.rule for p in problems)


# ---- lone surrogates: refused by the model, never by the wire encoder ------------------------------

LONE_SURROGATE = "\ud800"
UNICODE_RULE = "must be valid Unicode text (no lone surrogates)"


def _leaf_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every string inside ``value`` (dict keys and list indexes)."""
    if isinstance(value, str):
        return [prefix]
    if isinstance(value, dict):
        return [path for key, item in value.items() for path in _leaf_paths(item, (*prefix, key))]
    if isinstance(value, list):
        return [path for index, item in enumerate(value) for path in _leaf_paths(item, (*prefix, index))]
    return []


def _replaced(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(value, list):
        assert isinstance(head, int)
        return [
            _replaced(item, tuple(rest), new) if index == head else item for index, item in enumerate(value)
        ]
    return {**value, head: _replaced(value[head], tuple(rest), new)}


def _at(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


#: Valid messages that set every string field their model has (BSG twice: text, then cards).
FULL_MESSAGES: list[tuple[type[Any], dict[str, Any]]] = [
    (
        RevicomSms,
        {
            **REVICOM_BASES[RevicomSms],
            "tags": ["campaign_1"],
            "callback_url": "https://login:pw@example.com:8443/cb?x=1",
        },
    ),
    (RevicomVk, {**REVICOM_BASES[RevicomVk], "tags": ["t"]}),
    (RevicomFlashCall, {**REVICOM_BASES[RevicomFlashCall], "callback_url": "http://example.com/"}),
    (RevicomVoiceCode, {**REVICOM_BASES[RevicomVoiceCode], "external_message_id": "ext-1"}),
    (SmartswitchSms, {**SMARTSWITCH_BASE, "source_name": "Shop", "request_id": "r-1"}),
    (SmartswitchSms, {**SMARTSWITCH_BASE, "source_number": "12345"}),
    (
        BsgRcs,
        {
            **BSG_BASE,
            "phone": {"number": "380661231231", "reference_id": "ref1"},
            "callback_url": "https://example.com/cb",
            "alternative_channel": {"sms": {"text": "fallback", "sender": "Shop"}},
        },
    ),
    (
        BsgRcs,
        {
            **BSG_BASE,
            "options": {
                "cards": [
                    {
                        "title": "Title",
                        "text": "Card",
                        "media": {"url": "https://example.com/a.png"},
                        "suggestions": [
                            {
                                "type": "link",
                                "text": "Go",
                                "url": "https://example.com/",
                                "postback_data": "pb",
                            },
                            {"type": "call", "text": "Call", "phone": "380661231231"},
                        ],
                    }
                ]
            },
        },
    ),
]
SURROGATE_CASES = [(model, data, path) for model, data in FULL_MESSAGES for path in _leaf_paths(data)]


def test_the_full_messages_are_valid() -> None:
    for model, data in FULL_MESSAGES:
        assert _wire_bytes(build(model, data))


@pytest.mark.parametrize(
    ("model", "data", "path"),
    SURROGATE_CASES,
    ids=[f"{model.__name__}.{'.'.join(map(str, path))}" for model, _, path in SURROGATE_CASES],
)
@settings(max_examples=10, deadline=None)
@given(surrogate=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), where=st.integers(0, 100))
def test_a_lone_surrogate_in_any_string_field_is_refused_naming_that_field(
    model: type[Any], data: dict[str, Any], path: tuple[str | int, ...], surrogate: str, where: int
) -> None:
    original = _at(data, path)
    where = where % (len(original) + 1)
    value = original[:where] + surrogate + original[where:]

    with pytest.raises(InvalidMessage) as caught:
        build(model, _replaced(data, path, value))

    [problem] = caught.value.problems
    assert problem.field == ".".join(map(str, path))
    assert problem.rule
    # The problem itself can always be written as JSON (HTTP answers) and UTF-8 (logs).
    assert orjson.loads(orjson.dumps([problem.field, problem.value, problem.rule]))
    str(caught.value).encode("utf-8")


@pytest.mark.parametrize(
    ("model", "changes", "field"),
    [
        (RevicomSms, {"sender_name": f"A{LONE_SURROGATE}"}, "sender_name"),
        (RevicomFlashCall, {"sender_name": LONE_SURROGATE}, "sender_name"),
        (RevicomVk, {"sender_name": LONE_SURROGATE}, "sender_name"),
        (RevicomVoiceCode, {"text": f"Код авторизации от {LONE_SURROGATE}: 1234"}, "text"),
        (RevicomVoiceCode, {"external_message_id": LONE_SURROGATE}, "external_message_id"),
        (BsgRcs, {"sender": LONE_SURROGATE}, "sender"),
        (BsgRcs, {"options": {"text": LONE_SURROGATE}}, "options.text"),
        (BsgRcs, {"options": {"cards": [{"title": LONE_SURROGATE, "text": "t"}]}}, "options.cards.0.title"),
    ],
    ids=lambda value: (
        getattr(value, "__name__", None) or (next(iter(value)) if isinstance(value, dict) else value)
    ),
)
def test_a_lone_surrogate_is_refused_by_the_model_not_by_the_wire_encoder(
    model: type[Any], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(model, {**ALL_BASES[model], **changes})

    [problem] = caught.value.problems
    assert (problem.field, problem.rule) == (field, UNICODE_RULE)
    assert "\\ud800" in problem.value, "reported as its escape, which JSON and logs can carry"


@pytest.mark.parametrize(
    ("message", "account"),
    [
        (RevicomSms.model_construct(**{**REVICOM_BASES[RevicomSms], "sender_name": LONE_SURROGATE}), None),
        (
            BsgRcs.model_construct(
                phone=BsgPhone(number="380661231231"),
                sender="BSG",
                options=BsgRcsOptions(text="hi"),
                tariff_code=2**64,
            ),
            None,
        ),
        (
            SmartswitchSms.model_construct(destination_number="12123388100", body=LONE_SURROGATE),
            SmartswitchAccount(
                provider="smartswitch",
                name="ss",
                base_url="http://127.0.0.1:1",
                login_env="SS_TEST_LOGIN_UNSET",
                password_env="SS_TEST_PASSWORD_UNSET",
            ),
        ),
    ],
    ids=["revicom-surrogate", "bsg-integer-beyond-64-bits", "smartswitch-surrogate"],
)
def test_what_slips_past_a_model_is_still_invalid_message_at_the_wire_encoder(
    message: Any, account: Any
) -> None:
    # model_construct skips validation: a stand-in for a rule the models might miss one day.
    with pytest.raises(InvalidMessage) as caught:
        encode_wire(message, "0" * 26, account)

    [problem] = caught.value.problems
    assert problem.field == "(message)"
    assert problem.rule.startswith("cannot be")
