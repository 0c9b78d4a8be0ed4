"""Lone surrogates (valid JSON escapes, invalid Unicode text) in any string field of any channel
model are refused by the model, naming the field, and never reach the wire encoder.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.accounts import SmartswitchAccount
from dispatcher.errors import InvalidMessage
from dispatcher.models.bsg import BsgPhone, BsgRcs, BsgRcsOptions
from dispatcher.models.common import build
from dispatcher.models.revicom import (
    RevicomFlashCall,
    RevicomSms,
    RevicomVk,
    RevicomVoiceCode,
)
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.encoding import encode_wire
from tests.unit.model_strategies import (
    ALL_BASES,
    BSG_BASE,
    REVICOM_BASES,
    SMARTSWITCH_BASE,
    wire_bytes,
)

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
        assert wire_bytes(build(model, data))


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
