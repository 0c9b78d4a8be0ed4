"""SmartswitchSms enforces the provider page's parameters and our strict readings of its gaps."""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.models.common import UNICODE_TEXT_RULE, build
from dispatcher.models.smartswitch import SmartswitchSms

NUMBER = "12123388100"


def sms(**fields: Any) -> SmartswitchSms:
    return build(SmartswitchSms, {"destination_number": NUMBER, "body": "test", **fields})


def problem_fields(error: pytest.ExceptionInfo[InvalidMessage]) -> list[str]:
    return [problem.field for problem in error.value.problems]


def test_smartswitch_minimal_message_has_documented_defaults() -> None:
    message = sms()
    assert message.destination_number == NUMBER
    assert message.require_dlr is True
    assert message.stealth_ping is False
    assert (message.source_name, message.source_number, message.request_id) == (None, None, None)


def test_smartswitch_destination_number_is_normalised_to_digits() -> None:
    assert sms(destination_number="+1 (212) 338-8100").destination_number == NUMBER


def test_smartswitch_destination_number_must_be_a_valid_number() -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(destination_number="12345")
    assert problem_fields(error) == ["destination_number"]
    assert "12345" in str(error.value)


@pytest.mark.parametrize("body", [None, "", "   \n"])
def test_smartswitch_visible_message_needs_a_body_with_text(body: str | None) -> None:
    fields = {"destination_number": NUMBER} if body is None else {"destination_number": NUMBER, "body": body}
    with pytest.raises(InvalidMessage) as error:
        build(SmartswitchSms, fields)
    assert problem_fields(error) == ["body"]
    assert "visible text" in str(error.value)


def test_smartswitch_stealth_ping_has_no_body() -> None:
    message = build(SmartswitchSms, {"destination_number": NUMBER, "stealth_ping": True})
    assert message.body is None
    assert message.stealth_ping is True


def test_smartswitch_stealth_ping_must_not_carry_a_body() -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(stealth_ping=True)
    assert problem_fields(error) == ["body"]
    assert "stealth_ping" in str(error.value)


def test_smartswitch_body_must_be_encodable_text() -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(body="half a pair \ud800")
    assert problem_fields(error) == ["body"]
    assert error.value.problems[0].rule == UNICODE_TEXT_RULE


def test_smartswitch_body_may_be_unicode_and_long() -> None:
    assert sms(body="Привет, мир! " * 100).body is not None


@pytest.mark.parametrize("name", ["A", "Shop", "Shop2024", "ABCDEFGHIJK"])
def test_smartswitch_source_name_accepts_alphanumeric_up_to_11(name: str) -> None:
    assert sms(source_name=name).source_name == name


@pytest.mark.parametrize("name", ["", "ABCDEFGHIJKL", "My Shop", "Shop!", "Магазин", "12345"])
def test_smartswitch_source_name_must_be_1_to_11_letters_and_digits_with_a_letter(name: str) -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(source_name=name)
    assert problem_fields(error) == ["source_name"]
    assert "1..11 ASCII letters and digits" in str(error.value)


@pytest.mark.parametrize("number", ["1", "12123388100", "123456789012345"])
def test_smartswitch_source_number_accepts_up_to_15_digits(number: str) -> None:
    assert sms(source_number=number).source_number == number


@pytest.mark.parametrize("number", ["", "1234567890123456", "+12123388100", "212-338", "١٢٣"])
def test_smartswitch_source_number_must_be_1_to_15_digits(number: str) -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(source_number=number)
    assert problem_fields(error) == ["source_number"]
    assert "1..15 digits" in str(error.value)


def test_smartswitch_only_one_sender_may_be_given() -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(source_name="Shop", source_number="12123388100")
    assert problem_fields(error) == ["source_number"]
    assert "not both" in str(error.value)


@pytest.mark.parametrize("request_id", ["1", "msg-01HF.x:y_z", "a" * 64])
def test_smartswitch_request_id_accepts_short_tokens(request_id: str) -> None:
    assert sms(request_id=request_id).request_id == request_id


@pytest.mark.parametrize("request_id", ["", "a" * 65, "has space", "ünïcode", "a&b=c"])
def test_smartswitch_request_id_must_be_a_bounded_token(request_id: str) -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(request_id=request_id)
    assert problem_fields(error) == ["request_id"]
    assert "1..64 characters" in str(error.value)


@pytest.mark.parametrize("field", ["require_dlr", "stealth_ping"])
@pytest.mark.parametrize("value", ["1", 1, "yes"])
def test_smartswitch_flags_must_be_real_booleans(field: str, value: object) -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(**{field: value})
    assert field in problem_fields(error)


def test_smartswitch_unknown_fields_are_refused() -> None:
    with pytest.raises(InvalidMessage) as error:
        sms(_password="secret")
    assert problem_fields(error) == ["_password"]


def test_smartswitch_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidMessage) as error:
        build(SmartswitchSms, {"destination_number": "0", "body": "", "source_name": "x" * 12})
    assert sorted(problem_fields(error)) == ["body", "destination_number", "source_name"]
