"""Every documented BSG RCS rule, broken once: ``build`` refuses with field, value and rule."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.providers.bsg import wire_message
from tests.provider_examples import bsg_rcs_request

LINK = {"text": "Go to site", "url": "https://domain.com/"}
CALL = {"text": "Call us", "phone": "380971112233"}


def _card(**changes: Any) -> dict[str, Any]:
    return {"text": "card text", **changes}


def _sms(**changes: Any) -> dict[str, Any]:
    return {"alternative_channel": {"sms": {"text": "Hello", "sender": "BSGWorld", **changes}}}


def _phone(**changes: Any) -> dict[str, Any]:
    return {"phone": {"number": "380661231231", "reference_id": "ref1", **changes}}


def _options(**options: Any) -> dict[str, Any]:
    return {"options": options}


def _refusal(changes: dict[str, Any]) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        build(BsgRcs, bsg_rcs_request(**changes))
    return caught.value


# (test id, top-level changes, field that must be named, value that must be named, words of the rule)
VIOLATIONS: list[tuple[str, dict[str, Any], str, Any, str]] = [
    ("number_not_a_phone", _phone(number="12345"), "phone.number", "12345", "valid phone number"),
    ("number_too_short", _phone(number="+6837012"), "phone.number", "+6837012", "9..15 digits"),
    ("reference_id_too_long", _phone(reference_id="a" * 33), "phone.reference_id", "a" * 33, "1..32 letters"),
    (
        "reference_id_not_alnum",
        _phone(reference_id="ab-12"),
        "phone.reference_id",
        "ab-12",
        "letters or digits",
    ),
    ("sender_empty", {"sender": ""}, "sender", "", "1..40"),
    ("sender_too_long", {"sender": "s" * 41}, "sender", "s" * 41, "1..40"),
    ("options_neither", _options(), "options", {}, "exactly one of text or cards"),
    (
        "options_both",
        _options(text="hi", cards=[_card()]),
        "options",
        {"text": "hi", "cards": [_card()]},
        "exactly one of text or cards",
    ),
    ("text_too_long", _options(text="x" * 161), "options.text", "x" * 161, "1..160"),
    ("text_emoji_counts_two", _options(text="x" * 159 + "😀"), "options.text", "x" * 159 + "😀", "1..160"),
    ("no_cards", _options(cards=[]), "options.cards", [], "1..5 items"),
    ("six_cards", _options(cards=[_card()] * 6), "options.cards", None, "1..5 items"),
    ("card_without_text", _options(cards=[{"title": "t"}]), "options.cards.0.text", None, "Field required"),
    (
        "card_text_too_long",
        _options(cards=[_card(text="x" * 1001)]),
        "options.cards.0.text",
        "x" * 1001,
        "1..1000",
    ),
    (
        "media_url_too_long",
        _options(cards=[_card(media={"url": "https://d.com/" + "x" * 990})]),
        "options.cards.0.media.url",
        "https://d.com/" + "x" * 990,
        "at most 1000",
    ),
    (
        "media_url_not_http",
        _options(cards=[_card(media={"url": "ftp://d.com/a.png"})]),
        "options.cards.0.media.url",
        "ftp://d.com/a.png",
        "http",
    ),
    (
        "three_suggestions",
        _options(cards=[_card(suggestions=[LINK, LINK, CALL])]),
        "options.cards.0.suggestions",
        None,
        "0..2 items",
    ),
    (
        "suggestion_link_and_call",
        _options(cards=[_card(suggestions=[{**LINK, "phone": "380971112233"}])]),
        "options.cards.0.suggestions.0",
        {**LINK, "phone": "380971112233"},
        "exactly one of them",
    ),
    (
        "suggestion_neither",
        _options(cards=[_card(suggestions=[{"text": "Go"}])]),
        "options.cards.0.suggestions.0",
        {"text": "Go"},
        "exactly one of them",
    ),
    (
        "suggestion_type_mismatch",
        _options(cards=[_card(suggestions=[{**LINK, "type": "call"}])]),
        "options.cards.0.suggestions.0",
        {**LINK, "type": "call"},
        "must carry phone",
    ),
    (
        "suggestion_text_too_long",
        _options(cards=[_card(suggestions=[{**LINK, "text": "t" * 26}])]),
        "options.cards.0.suggestions.0.text",
        "t" * 26,
        "1..25",
    ),
    (
        "postback_too_long",
        _options(cards=[_card(suggestions=[{**LINK, "postback_data": "p" * 26}])]),
        "options.cards.0.suggestions.0.postback_data",
        "p" * 26,
        "1..25",
    ),
    (
        "call_phone_invalid",
        _options(cards=[_card(suggestions=[{"text": "Call", "phone": "0000"}])]),
        "options.cards.0.suggestions.0.phone",
        "0000",
        "valid phone number",
    ),
    ("validity_seconds_low", {"validity_seconds": 29}, "validity_seconds", 29, "greater than or equal to 30"),
    ("validity_seconds_high", {"validity_seconds": 86401}, "validity_seconds", 86401, "less than or equal"),
    (
        "validity_hours_low",
        {"validity_seconds": None, "validity": 0},
        "validity",
        0,
        "greater than or equal to 1",
    ),
    (
        "validity_hours_high",
        {"validity_seconds": None, "validity": 73},
        "validity",
        73,
        "less than or equal to 72",
    ),
    ("validity_both", {"validity_seconds": 60, "validity": 1}, "(message)", None, "never both"),
    ("sms_text_too_long_gsm7", _sms(text="a" * 766), "alternative_channel.sms.text", "a" * 766, "765 GSM-7"),
    (
        "sms_text_gsm7_extension_counts_two",
        _sms(text="€" * 383),
        "alternative_channel.sms.text",
        "€" * 383,
        "765",
    ),
    ("sms_text_too_long_ucs2", _sms(text="я" * 356), "alternative_channel.sms.text", "я" * 356, "355 UCS-2"),
    ("sms_text_empty", _sms(text=""), "alternative_channel.sms.text", "", "1..765"),
    (
        "sms_sender_12_letters",
        _sms(sender="abcdefghijkl"),
        "alternative_channel.sms.sender",
        "abcdefghijkl",
        "1..11",
    ),
    (
        "sms_sender_16_digits",
        _sms(sender="1" * 16),
        "alternative_channel.sms.sender",
        "1" * 16,
        "1..15 digits",
    ),
    (
        "sms_sender_space",
        _sms(sender="BSG World"),
        "alternative_channel.sms.sender",
        "BSG World",
        "Latin letters",
    ),
    (
        "sms_validity_high",
        _sms(validity=73),
        "alternative_channel.sms.validity",
        73,
        "less than or equal to 72",
    ),
    (
        "sms_validity_seconds_low",
        _sms(validity_seconds=10),
        "alternative_channel.sms.validity_seconds",
        10,
        "greater than or equal to 30",
    ),
    (
        "sms_validity_both",
        _sms(validity=1, validity_seconds=60),
        "alternative_channel.sms",
        None,
        "never both",
    ),
    (
        "sms_check_stop_list_not_bool",
        _sms(check_stop_list="yes"),
        "alternative_channel.sms.check_stop_list",
        "yes",
        "boolean",
    ),
    (
        "callback_url_too_long",
        {"callback_url": "https://e.com/" + "x" * 87},
        "callback_url",
        None,
        "at most 100",
    ),
    ("callback_url_not_url", {"callback_url": "string"}, "callback_url", "string", "http:// or https:// URL"),
    ("callback_url_port_too_big", {"callback_url": "http://a:99999/"}, "callback_url", None, "port"),
    ("callback_url_port_not_number", {"callback_url": "http://a:x/"}, "callback_url", None, "port"),
    ("callback_url_bad_ipv6", {"callback_url": "http://[::1"}, "callback_url", None, "absolute http"),
    ("callback_url_not_ascii", {"callback_url": "https://e.com/путь"}, "callback_url", None, "RFC 3986"),
    (
        "media_url_port_too_big",
        _options(cards=[_card(media={"url": "https://d.com:65536/a.png"})]),
        "options.cards.0.media.url",
        None,
        "media.url port must be a number 0..65535",
    ),
    (
        "suggestion_url_port_too_big",
        _options(cards=[_card(suggestions=[{**LINK, "url": "https://d.com:70000/"}])]),
        "options.cards.0.suggestions.0.url",
        None,
        "suggestion url port must be a number 0..65535",
    ),
    ("add_to_contact_book_string", {"add_to_contact_book": "true"}, "add_to_contact_book", "true", "boolean"),
    ("check_stop_list_int", {"check_stop_list": 1}, "check_stop_list", 1, "boolean"),
    ("tariff_code_string", {"tariff_code": "5"}, "tariff_code", "5", "integer"),
    ("tariff_code_negative", {"tariff_code": -1}, "tariff_code", -1, "greater than or equal to 0"),
    ("tariff_code_beyond_64_bits", {"tariff_code": 2**63}, "tariff_code", 2**63, "less than or equal to"),
    ("unknown_field", {"priority": "high"}, "priority", "high", "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(
    ("changes", "field", "value", "rule"),
    [pytest.param(changes, field, value, rule, id=name) for name, changes, field, value, rule in VIOLATIONS],
)
def test_bsg_rule_violation_is_refused_naming_field_value_and_rule(
    changes: dict[str, Any], field: str, value: Any, rule: str
) -> None:
    refusal = _refusal(changes)

    problems = [problem for problem in refusal.problems if problem.field == field]
    assert problems, f"no problem names {field}: {refusal}"
    assert any(rule in problem.rule for problem in problems), str(refusal)
    if value is not None:
        assert any(problem.value == value for problem in problems), str(refusal)


def test_bsg_unset_validity_falls_back_to_provider_default_and_is_not_sent() -> None:
    message = build(BsgRcs, bsg_rcs_request(validity_seconds=None))

    assert "validity_seconds" not in wire_message(message)
    assert "validity" not in wire_message(message)


def test_bsg_text_message_of_160_characters_is_accepted() -> None:
    message = build(BsgRcs, bsg_rcs_request(options={"text": "x" * 160}))

    assert wire_message(message)["options"] == {"text": "x" * 160}
    assert not message.options.is_carousel


def test_bsg_phone_number_is_normalised_to_digits_on_the_wire() -> None:
    message = build(BsgRcs, bsg_rcs_request(**_phone(number="+380 66 123 1231")))

    assert wire_message(message)["phone"]["number"] == "380661231231"


def test_bsg_suggestion_type_is_sent_only_when_given() -> None:
    typed = {"type": "call", "text": "Call us", "phone": "380971112233"}
    message = build(BsgRcs, bsg_rcs_request(**_options(cards=[_card(suggestions=[typed, LINK])])))

    assert wire_message(message)["options"]["cards"][0]["suggestions"] == [typed, LINK]


def test_bsg_sms_limits_are_inclusive() -> None:
    for text in ("a" * 765, "я" * 355, "€" * 382 + "a"):
        message = build(BsgRcs, bsg_rcs_request(**_sms(text=text, sender="123456789012345")))
        assert message.alternative_channel is not None
        assert message.alternative_channel.sms.text == text


def test_bsg_reference_id_of_32_alphanumerics_is_accepted() -> None:
    message = build(BsgRcs, bsg_rcs_request(**_phone(reference_id="A1" * 16)))

    assert message.phone.reference_id == "A1" * 16


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sender": "BSG\ud800"}, "sender"),
        (_options(text="hi \udfff"), "options.text"),
        (_options(cards=[_card(title="\ud800")]), "options.cards.0.title"),
        (_options(cards=[_card(text="card \ud800")]), "options.cards.0.text"),
        (
            _options(cards=[_card(suggestions=[{**LINK, "text": "Go\ud800"}])]),
            "options.cards.0.suggestions.0.text",
        ),
        (
            _options(cards=[_card(suggestions=[{**LINK, "postback_data": "\ud800"}])]),
            "options.cards.0.suggestions.0.postback_data",
        ),
        (_sms(text="Hello \ud800"), "alternative_channel.sms.text"),
    ],
)
def test_bsg_free_text_with_a_lone_surrogate_is_refused_by_the_unicode_rule(
    changes: dict[str, Any], field: str
) -> None:
    [problem] = _refusal(changes).problems

    assert (problem.field, problem.rule) == (field, "must be valid Unicode text (no lone surrogates)")


@pytest.mark.parametrize("port", ["1", "443", "65535"])
def test_bsg_urls_take_any_port_up_to_65535(port: str) -> None:
    message = build(BsgRcs, bsg_rcs_request(callback_url=f"https://e.com:{port}/cb"))

    assert message.callback_url == f"https://e.com:{port}/cb"


def test_bsg_largest_tariff_code_still_goes_on_the_wire_as_json() -> None:
    message = build(BsgRcs, bsg_rcs_request(tariff_code=2**63 - 1))

    assert orjson.loads(orjson.dumps(wire_message(message)))["tariff_code"] == 2**63 - 1
