"""Smartswitch send responses: the documented bodies parse; anything doubtful is UnexpectedResponse."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dispatcher.errors import BadCredentials, BatchRejected, UnexpectedResponse
from dispatcher.models.common import build
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.providers.outcomes import Rejected, Submitted
from dispatcher.providers.smartswitch.response import interpret
from tests.provider_examples import (
    SMARTSWITCH_ERROR_RESPONSE,
    SMARTSWITCH_ONE_RECIPIENT_RESPONSE,
    SMARTSWITCH_TWO_RECIPIENTS_RESPONSE,
)


def sms(number: str = "12123388100", **fields: Any) -> SmartswitchSms:
    return build(SmartswitchSms, {"destination_number": number, "body": "test", **fields})


def item(number: str, *, status: str = "ok", request_id: str | None = None, id_: str = "9") -> dict[str, Any]:
    document: dict[str, Any] = {
        "attributes": {"destination_number": number, "segments": 2, "status": status},
        "id": id_,
        "type": "message",
    }
    if request_id is not None:
        document["meta"] = {"request_id": request_id}
    return document


def test_smartswitch_documented_one_recipient_response_is_submitted() -> None:
    assert interpret(200, SMARTSWITCH_ONE_RECIPIENT_RESPONSE, [sms()]) == [
        Submitted("1561370632513", segments=1)
    ]


def test_smartswitch_documented_two_recipient_response_is_submitted_in_order() -> None:
    outcomes = interpret(200, SMARTSWITCH_TWO_RECIPIENTS_RESPONSE, [sms(), sms("12123388101")])
    assert outcomes == [Submitted("1561371433517", 1), Submitted("1561371433518", 1)]


def test_smartswitch_items_are_matched_by_request_id_not_position() -> None:
    messages = [sms(request_id="1"), sms("12123388101", request_id="2")]
    reversed_response = copy.deepcopy(SMARTSWITCH_TWO_RECIPIENTS_RESPONSE)
    reversed_response["data"].reverse()
    outcomes = interpret(200, reversed_response, messages)
    assert outcomes == [Submitted("1561371433517", 1), Submitted("1561371433518", 1)]


def test_smartswitch_cyrillic_ok_counts_as_submitted() -> None:
    response = {"data": item("12123388100", status="\u043e\u043a")}
    assert interpret(200, response, [sms()]) == [Submitted("9", segments=2)]


def test_smartswitch_item_status_error_is_a_rejected_message_and_the_rest_go_on() -> None:
    response = {"data": [item("12123388100", status="error"), item("12123388101", id_="10")]}
    outcomes = interpret(200, response, [sms(), sms("12123388101")])
    assert isinstance(outcomes[0], Rejected)
    assert outcomes[0].code == "error"
    assert outcomes[1] == Submitted("10", segments=2)


def test_smartswitch_numeric_item_id_is_kept_as_text() -> None:
    response = {"data": {**item("12123388100"), "id": 1561370632513}}
    assert interpret(200, response, [sms()]) == [Submitted("1561370632513", segments=2)]


def test_smartswitch_documented_error_body_is_bad_credentials() -> None:
    with pytest.raises(BadCredentials) as error:
        interpret(200, SMARTSWITCH_ERROR_RESPONSE, [sms()])
    assert error.value.code == "authentication"
    assert "Please check your login and password" in str(error.value)


def test_smartswitch_authentication_error_wins_over_other_errors() -> None:
    errors = [{"code": "validation", "detail": "d", "title": "t"}, *SMARTSWITCH_ERROR_RESPONSE["errors"]]
    with pytest.raises(BadCredentials):
        interpret(401, {"errors": errors}, [sms()])


def test_smartswitch_other_error_codes_reject_the_whole_request() -> None:
    errors = [
        {"code": "invalid_destination_number", "detail": "Bad number 1", "title": "Invalid"},
        {"code": "insufficient_funds", "detail": "Top up", "title": "Balance"},
    ]
    with pytest.raises(BatchRejected) as error:
        interpret(400, {"errors": errors}, [sms()])
    assert error.value.code == "invalid_destination_number"
    assert error.value.reason == "Bad number 1; Top up"


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"data": SMARTSWITCH_ONE_RECIPIENT_RESPONSE["data"], "errors": SMARTSWITCH_ERROR_RESPONSE["errors"]},
        [SMARTSWITCH_ONE_RECIPIENT_RESPONSE["data"]],
        "ok",
        {"errors": []},
        {"errors": [{"detail": "no code"}]},
        {"errors": "authentication"},
        {"data": None},
        {"data": {**item("12123388100"), "type": "other"}},
        {"data": {"type": "message", "id": "1"}},
        {"data": item("12123388100", status="queued")},
        {"data": {**item("12123388100"), "id": ""}},
        {"data": {**item("12123388100"), "id": True}},
        {
            "data": {
                **item("12123388100"),
                "attributes": {"destination_number": "12123388100", "status": "ok"},
            }
        },
        {"data": {**item("12123388100"), "meta": {"request_id": 7}}},
        {"data": item("12123388101")},
    ],
)
def test_smartswitch_malformed_responses_are_unexpected(document: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        interpret(200, document, [sms()])


def test_smartswitch_item_count_mismatch_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse, match="1 data items for 2 recipients"):
        interpret(200, SMARTSWITCH_ONE_RECIPIENT_RESPONSE, [sms(), sms("12123388101")])


def test_smartswitch_data_on_an_error_status_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse, match="HTTP 400"):
        interpret(400, SMARTSWITCH_ONE_RECIPIENT_RESPONSE, [sms()])


def test_smartswitch_unknown_echoed_request_id_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse, match="request_ids"):
        interpret(200, SMARTSWITCH_ONE_RECIPIENT_RESPONSE, [sms(request_id="ours")])


def test_smartswitch_partly_echoed_request_ids_are_unexpected() -> None:
    response = {"data": [item("12123388100", request_id="a"), item("12123388101")]}
    with pytest.raises(UnexpectedResponse, match="only some"):
        interpret(200, response, [sms(request_id="a"), sms("12123388101", request_id="b")])


def test_smartswitch_request_ids_echoed_without_ours_fall_back_to_order() -> None:
    # The documented 2-recipient example: no request_id sent, "1" and "2" echoed.
    with pytest.raises(UnexpectedResponse, match="another destination_number"):
        interpret(200, SMARTSWITCH_TWO_RECIPIENTS_RESPONSE, [sms("12123388101"), sms()])
