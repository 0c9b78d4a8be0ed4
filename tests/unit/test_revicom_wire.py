"""Revicom request bodies from models, and replies read into outcomes or errors (pure, no network)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest

from dispatcher.errors import (
    AccessDenied,
    BadCredentials,
    BatchRejected,
    NotAuthenticated,
    ProviderError,
    UnexpectedResponse,
)
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomFlashCall, RevicomSms, RevicomVk, RevicomVoiceCode
from dispatcher.providers.outcomes import Rejected, Submitted
from dispatcher.providers.revicom import wire_batch, wire_message
from dispatcher.providers.revicom_wire import (
    MAX_REQUEST_BODY_BYTES,
    StopResult,
    balances,
    encode_batch,
    outcomes_from_send,
    read_reply,
    remote_messages,
    stop_results,
    tagged,
    tagged_body,
)
from tests.provider_examples import (
    REVICOM_SEND_SUCCESS,
    REVICOM_VOICECODE_REQUEST,
    revicom_sms_model,
    revicom_sms_request,
    revicom_voicecode_model,
)

NUMBER = "14085553911"


# ---- request bodies -------------------------------------------------------------------------------


def test_documented_sms_example_is_produced_field_for_field() -> None:
    assert wire_message(revicom_sms_model()) == revicom_sms_request()


def test_documented_voicecode_example_is_produced_field_for_field() -> None:
    assert wire_message(revicom_voicecode_model()) == REVICOM_VOICECODE_REQUEST


def test_wire_message_leaves_out_every_field_not_set() -> None:
    message = build(RevicomSms, {"destination": NUMBER, "sender_name": "S", "text": "Hi"})
    assert wire_message(message) == {
        "channelType": "SMS",
        "senderName": "S",
        "destination": NUMBER,
        "content": "Hi",
    }


def test_wire_message_keeps_false_flags() -> None:
    message = build(
        RevicomVk,
        {
            "destination": NUMBER,
            "sender_name": "g",
            "text": "Hi",
            "use_local_time": False,
            "short_url": False,
        },
    )
    assert wire_message(message)["useLocalTime"] is False
    assert wire_message(message)["shortUrl"] is False


def test_flashcall_content_is_the_code_and_voicecode_carries_its_external_id() -> None:
    flash = build(RevicomFlashCall, {"destination": NUMBER, "sender_name": "any sender", "code": "1234"})
    assert wire_message(flash) == {
        "channelType": "FLASHCALL",
        "senderName": "any sender",
        "destination": NUMBER,
        "content": "1234",
    }
    voice = RevicomVoiceCode.from_code(
        destination=NUMBER, brand="b", code="1234", ttl_s=30, external_message_id="ours-1"
    )
    assert wire_message(voice)["externalMessageId"] == "ours-1"
    assert wire_message(voice)["ttl"] == 30


def test_wire_batch_adds_the_request_tag_to_every_item() -> None:
    plain = build(RevicomSms, {"destination": NUMBER, "sender_name": "S", "text": "Hi"})
    batch = wire_batch([revicom_sms_model(), plain, revicom_voicecode_model()], "req_42")
    assert [item["tags"] for item in batch] == [
        ["tag1", "tag2", "req_42"],
        ["req_42"],
        ["tag1", "tag2", "req_42"],
    ]
    assert batch[0] == {**revicom_sms_request(), "tags": ["tag1", "tag2", "req_42"]}


def test_wire_batch_does_not_repeat_a_request_tag_the_message_already_has() -> None:
    tagged = build(RevicomSms, {"destination": NUMBER, "sender_name": "S", "text": "Hi", "tags": ["req_1"]})
    assert wire_batch([tagged], "req_1")[0]["tags"] == ["req_1"]


@pytest.mark.parametrize("count", [0, 1001])
def test_wire_batch_holds_1_to_1000_messages(count: int) -> None:
    message = build(RevicomSms, {"destination": NUMBER, "sender_name": "S", "text": "Hi"})
    with pytest.raises(ValueError, match=r"1\.\.1000 messages"):
        wire_batch([message] * count, "req")


def test_wire_batch_of_1000_messages_is_allowed() -> None:
    message = build(RevicomSms, {"destination": NUMBER, "sender_name": "S", "text": "Hi"})
    assert len(wire_batch([message] * 1000, "req")) == 1000


def test_wire_batch_refuses_a_body_over_the_size_cap() -> None:
    big = build(RevicomSms, {"destination": NUMBER, "sender_name": "S", "text": "я" * 1000})
    count = MAX_REQUEST_BODY_BYTES // 2000 + 1
    with pytest.raises(ValueError, match="request body may be"):
        wire_batch([big] * count, "req")


@pytest.mark.parametrize("tag", ["", "req-1", "req 1", "запрос"])
def test_wire_batch_refuses_a_request_tag_the_provider_would_refuse(tag: str) -> None:
    message = build(RevicomSms, {"destination": NUMBER, "sender_name": "S", "text": "Hi"})
    with pytest.raises(ValueError, match="request tag"):
        wire_batch([message], tag)


def test_encoded_batch_is_utf8_json_with_text_unescaped() -> None:
    body = encode_batch(wire_batch([revicom_voicecode_model()], "req"))
    assert "Код авторизации".encode() in body
    assert json.loads(body)[0]["content"]["text"] == "Код авторизации от revicom: 3 4 5 6"


@pytest.mark.parametrize(
    "item",
    [
        {"channelType": "SMS", "senderName": "S", "destination": NUMBER, "content": "Hi"},
        {"channelType": "SMS", "senderName": "S", "destination": NUMBER, "content": 'say "tags" {}'},
        {"channelType": "SMS", "senderName": "S", "destination": NUMBER, "content": "Привет"},
        {"channelType": "SMS", "senderName": "S", "destination": NUMBER, "content": "x", "tags": ["own"]},
        {"channelType": "SMS", "senderName": "S", "destination": NUMBER, "content": "x", "tags": ["req"]},
        {"channelType": "SMS", "senderName": "tags", "destination": NUMBER, "content": "x"},
    ],
)
def test_body_from_stored_wire_items_is_the_encoded_tagged_batch(item: dict[str, Any]) -> None:
    stored = orjson.dumps(item)
    body = tagged_body([stored, stored], "req")
    assert body == encode_batch([tagged(item, "req"), tagged(item, "req")])
    assert [sent["tags"][-1] for sent in json.loads(body)] == ["req", "req"]


def test_stored_wire_item_not_in_compact_form_is_still_tagged() -> None:
    body = tagged_body([b' { "content" : "x" } '], "req")
    assert json.loads(body) == [{"content": "x", "tags": ["req"]}]


# ---- replies --------------------------------------------------------------------------------------


def test_documented_success_response_gives_submitted_outcomes() -> None:
    outcomes = outcomes_from_send(read_reply(200, REVICOM_SEND_SUCCESS), expected=2)
    assert outcomes == [
        Submitted(provider_message_id="063474ec-a34f-4558-90c5-984395000004"),
        Submitted(provider_message_id="063564ec-a34f-4558-90c5-984395000005"),
    ]


def test_per_item_refusal_is_a_rejected_outcome_for_that_message_only() -> None:
    document = {
        "errors": True,
        "items": [{"messageUuid": "u1", "code": 201}, {"code": 4220, "msg": "Invalid msisdn"}],
    }
    assert outcomes_from_send(document, expected=2) == [
        Submitted(provider_message_id="u1"),
        Rejected(code="4220", reason="Invalid msisdn"),
    ]


def test_item_count_that_does_not_match_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse, match="1 items for 2 messages"):
        outcomes_from_send({"errors": False, "items": [{"messageUuid": "u1", "code": 201}]}, expected=2)


@pytest.mark.parametrize(
    "document",
    [
        {"errors": False},
        [],
        {"items": [{"messageUuid": "u1"}]},
        {"items": [{"messageUuid": "u1", "code": "201"}]},
        {"items": [{"messageUuid": "u1", "code": 201.0}]},
        {"items": [{"messageUuid": "", "code": 201}]},
        {"items": [{"code": 201}]},
        {"items": ["u1"]},
    ],
)
def test_send_reply_of_the_wrong_shape_is_unexpected(document: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        outcomes_from_send(document, expected=1)


@pytest.mark.parametrize(
    ("body", "error_class", "code"),
    [
        (b'{"error":{"code":4012,"msg":"Bad credentials"}}', BadCredentials, "4012"),
        (b'{"error":{"code":4010,"msg":"Not Authenticated"}}', NotAuthenticated, "4010"),
        (b'{"error":{"code":4030,"msg":"Access Denied"}}', AccessDenied, "4030"),
        (b'{"error":{"code":4220,"msg":"Invalid content"}}', BatchRejected, "4220"),
        (b'{"error":{"code":4220,"msg":"Invalid msisdn"}}', BatchRejected, "4220"),
    ],
)
@pytest.mark.parametrize("status", [200, 400, 401, 403, 422])
def test_documented_error_bodies_map_to_their_error_class_whatever_the_status(
    body: bytes, error_class: type[ProviderError], code: str, status: int
) -> None:
    with pytest.raises(error_class) as caught:
        read_reply(status, body)
    assert type(caught.value) is error_class
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert caught.value.provider == "revicom"


def test_batch_rejected_carries_the_provider_reason() -> None:
    with pytest.raises(BatchRejected) as caught:
        read_reply(422, b'{"error":{"code":4220,"msg":"Invalid msisdn"}}')
    assert caught.value.reason == "Invalid msisdn"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, b'{"error":{"code":9999,"msg":"?"}}'),
        (401, b'{"error":"nope"}'),
        (401, b'{"error":{"code":"4012"}}'),
        (400, b'{"message":"bad"}'),
        (404, b"<html>not found</html>"),
        (200, b"not json"),
        (200, b""),
    ],
)
def test_undocumented_replies_are_unexpected(status: int, body: bytes) -> None:
    with pytest.raises(UnexpectedResponse):
        read_reply(status, body)


def test_stop_codes_have_their_documented_meanings() -> None:
    document = {
        "errors": True,
        "items": [
            {"messageUuid": "a", "code": 200},
            {"messageUuid": "b", "code": 202},
            {"messageUuid": "c", "code": 403},
            {"messageUuid": "d", "code": 404},
        ],
    }
    assert stop_results(document) == {
        "a": StopResult.WILL_STOP,
        "b": StopResult.MAY_NOT_STOP,
        "c": StopResult.TOO_LATE,
        "d": StopResult.NOT_FOUND,
    }


@pytest.mark.parametrize("item", [{"messageUuid": "a", "code": 500}, {"code": 200}, "a"])
def test_stop_item_not_understood_is_unexpected(item: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        stop_results({"errors": True, "items": [item]})


def test_balance_is_read_with_exact_decimals() -> None:
    assert balances(read_reply(200, b'{"USD": 1200.10, "RUB": 5}', decimals=True)) == {
        "USD": Decimal("1200.10"),
        "RUB": Decimal(5),
    }


@pytest.mark.parametrize("body", [b"[]", b'{"USD": "12"}', b'{"USD": true}'])
def test_balance_of_the_wrong_shape_is_unexpected(body: bytes) -> None:
    with pytest.raises(UnexpectedResponse):
        balances(read_reply(200, body, decimals=True))


def test_remote_messages_are_read_from_items_or_a_bare_array() -> None:
    item = {
        "messageUuid": "u1",
        "status": "delivered",
        "channelType": "SMS",
        "destination": NUMBER,
        "senderName": "S",
        "tags": ["req_1"],
        "externalMessageId": None,
        "errorCode": 7060,
    }
    for document in ({"items": [item]}, [item]):
        (message,) = remote_messages(document)
        assert message.message_uuid == "u1"
        assert message.status == "delivered"
        assert message.tags == ("req_1",)
        assert message.error_code == "7060"
        assert message.external_message_id is None


@pytest.mark.parametrize("document", [{"items": [{"status": "sent"}]}, {"total": 0}, "x"])
def test_remote_messages_of_the_wrong_shape_are_unexpected(document: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        remote_messages(document)
