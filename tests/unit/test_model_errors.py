"""`build()` reports every problem as field, value and rule, never leaks URL credentials or the whole
message, and reports values JSON can carry."""

from __future__ import annotations

import orjson
import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomSms, build_revicom_message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(RevicomSms, {"destination": "123", "sender_name": "S", "text": "hi", "ttl_s": 5})

    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"destination", "ttl_s"}
    ttl = next(problem for problem in caught.value.problems if problem.field == "ttl_s")
    assert ttl.value == 5
    assert "60" in ttl.rule


def test_callback_url_credentials_never_reach_the_error_text() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(
            RevicomSms,
            {
                "destination": "+14085553911",
                "sender_name": "S",
                "text": "hi",
                "callback_url": "ftp://login:s3cr3tpass@example.com/cb",
            },
        )

    assert "s3cr3tpass" not in str(caught.value)
    assert "ftp://***@example.com/cb" in str(caught.value)


def test_a_missing_field_is_reported_without_a_value_so_the_message_stays_out_of_the_error() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(RevicomSms, {"destination": "+14085553911", "text": "hi"})

    [problem] = caught.value.problems
    assert (problem.field, problem.value, problem.rule) == ("sender_name", None, "Field required")
    assert "4085553911" not in str(caught.value)


def test_a_missing_nested_field_is_reported_without_a_value() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(BsgRcs, {"phone": {"reference_id": "ref1"}, "sender": "BSG", "options": {"text": "hi"}})

    [problem] = caught.value.problems
    assert (problem.field, problem.value, problem.rule) == ("phone.number", None, "Field required")


def test_a_missing_channel_names_the_channel_field_without_a_value() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build_revicom_message({"destination": "+14085553911", "sender_name": "S", "text": "hi"})

    [problem] = caught.value.problems
    assert (problem.field, problem.value) == ("channel", None)
    assert "4085553911" not in str(caught.value)


def test_an_unknown_channel_is_reported_as_the_channel_value_not_the_whole_message() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build_revicom_message({"channel": "FAX", "destination": "+14085553911", "text": "hi"})

    [problem] = caught.value.problems
    assert (problem.field, problem.value) == ("channel", "FAX")
    assert "SMS" in problem.rule
    assert "4085553911" not in str(caught.value)


def test_a_message_that_is_not_an_object_is_still_reported_as_the_value() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build_revicom_message(["SMS"])

    [problem] = caught.value.problems
    assert (problem.field, problem.value) == ("(message)", ["SMS"])


@pytest.mark.parametrize(
    ("extra", "field", "value"),
    [
        ({"x": "y\udfff"}, "x", "y\\udfff"),
        # pydantic refuses a key that is not valid Unicode as such, at the message level.
        ({"x\ud800": "y"}, "(message)", "x\\ud800"),
    ],
)
def test_lone_surrogates_in_reported_values_are_escaped_so_json_can_carry_them(
    extra: dict[str, str], field: str, value: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(RevicomSms, {"destination": "+14085553911", "sender_name": "S", "text": "hi", **extra})

    [problem] = caught.value.problems
    assert (problem.field, problem.value) == (field, value)
    assert orjson.loads(orjson.dumps([problem.field, problem.value, problem.rule]))
