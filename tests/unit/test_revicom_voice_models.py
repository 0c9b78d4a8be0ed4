"""Revicom VOICECODE and FLASHCALL rules, and choosing the model by channel."""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.models.common import build
from dispatcher.models.revicom import (
    RevicomFlashCall,
    RevicomSms,
    RevicomVk,
    RevicomVoiceCode,
    build_revicom_message,
)
from dispatcher.models.revicom_fields import voicecode_text
from tests.unit.revicom_support import (
    BASES,
    FLASHCALL,
    NUMBER,
    SMS,
    VOICECODE,
    assert_breaks,
)

# ---- VOICECODE ------------------------------------------------------------------------------------


def test_voicecode_sender_name_is_always_voicecode() -> None:
    assert build(RevicomVoiceCode, VOICECODE).sender_name == "voicecode"
    assert build(RevicomVoiceCode, {**VOICECODE, "sender_name": "voicecode"}).sender_name == "voicecode"
    assert_breaks(RevicomVoiceCode, {"sender_name": "BRAND"}, "sender_name", "always use the sender name")


@pytest.mark.parametrize("code", ["1234", "1 2 3 4", "1-2-3-4"])
def test_voicecode_accepts_the_three_code_styles(code: str) -> None:
    text = f"Код авторизации от My Brand: {code}"
    assert build(RevicomVoiceCode, {**VOICECODE, "text": text}).text == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Your code: 1234",
        "Код авторизации от revicom: 123",
        "Код авторизации от revicom: 12345",
        "Код авторизации от revicom: 1 2-3 4",
        "Код авторизации от revicom: 1  2 3 4",
        "Код авторизации от revicom: 12ab",
        "Код авторизации от revicom: 1234.",
        "Код авторизации от : 1234",
        "код авторизации от revicom: 1234",
        "Код авторизации от revicom:1234",
        "Код авторизации от revicom: ١٢٣٤",
        "Код авторизации от revicom\n: 1234",
        f"Код авторизации от {'b' * 1000}: 1234",
    ],
)
def test_voicecode_text_must_match_template(text: str) -> None:
    assert_breaks(RevicomVoiceCode, {"text": text}, "text", "Код авторизации от {brand}: {code}")


def test_voicecode_text_is_at_most_1000_characters() -> None:
    fits = f"Код авторизации от {'b' * (1000 - len('Код авторизации от : 1234'))}: 1234"
    assert len(fits) == 1000
    assert build(RevicomVoiceCode, {**VOICECODE, "text": fits}).text == fits
    assert_breaks(RevicomVoiceCode, {"text": fits.replace(": ", "b: ")}, "text", "1..1000 characters")


def test_voicecode_external_message_id_is_1_to_100_characters() -> None:
    assert build(RevicomVoiceCode, {**VOICECODE, "external_message_id": "x" * 100}).external_message_id
    assert_breaks(RevicomVoiceCode, {"external_message_id": "x" * 101}, "external_message_id", "1..100")
    assert_breaks(RevicomVoiceCode, {"external_message_id": ""}, "external_message_id", "1..100")


def test_external_message_id_is_only_for_voicecode() -> None:
    assert_breaks(RevicomSms, {"external_message_id": "id1"}, "external_message_id", "Extra inputs")


@pytest.mark.parametrize(("style", "code"), [("plain", "3456"), ("spaced", "3 4 5 6"), ("dashed", "3-4-5-6")])
def test_voicecode_from_code_fills_the_template(style: Any, code: str) -> None:
    message = RevicomVoiceCode.from_code(
        destination=NUMBER, brand="revicom", code="3456", style=style, ttl_s=60
    )
    assert message.text == f"Код авторизации от revicom: {code}"
    assert message.ttl_s == 60
    assert voicecode_text("revicom", "3456", style) == message.text


@pytest.mark.parametrize("code", ["12", "12a4", "", "1 234", "١٢٣٤"])
def test_voicecode_from_code_refuses_a_bad_code_naming_the_code(code: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        RevicomVoiceCode.from_code(destination=NUMBER, brand="revicom", code=code)
    # The code the caller gave, not the sentence the dispatcher would have made of it.
    assert [(problem.field, problem.value) for problem in caught.value.problems] == [("code", code)]


@pytest.mark.parametrize("brand", ["", " revicom", "a\nb", "x" * 1000])
def test_voicecode_from_code_refuses_a_bad_brand_naming_the_brand(brand: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        RevicomVoiceCode.from_code(destination=NUMBER, brand=brand, code="1234")
    assert [problem.field for problem in caught.value.problems] == ["brand"]


# ---- FLASHCALL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["123", "12345", "12a4", "١٢٣٤", "", " 123"])
def test_flashcall_code_is_four_digits(code: str) -> None:
    assert_breaks(RevicomFlashCall, {"code": code}, "code", "exactly 4 digits")


def test_flashcall_code_must_be_a_string() -> None:
    assert_breaks(RevicomFlashCall, {"code": 1234}, "code", "valid string")


# ---- the union ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "model"),
    [
        ("SMS", RevicomSms),
        ("VOICECODE", RevicomVoiceCode),
        ("FLASHCALL", RevicomFlashCall),
        ("VK", RevicomVk),
    ],
)
def test_build_revicom_message_picks_the_model_by_channel(channel: str, model: type[Any]) -> None:
    assert isinstance(build_revicom_message({**BASES[model], "channel": channel}), model)


def test_build_revicom_message_refuses_an_unknown_channel() -> None:
    with pytest.raises(InvalidMessage, match="WHATSAPP"):
        build_revicom_message({**SMS, "channel": "WHATSAPP"})


def test_build_revicom_message_names_the_field_inside_the_channel() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build_revicom_message({**FLASHCALL, "channel": "FLASHCALL", "code": "12"})
    assert caught.value.problems[0].field == "FLASHCALL.code"
    assert caught.value.problems[0].value == "12"
