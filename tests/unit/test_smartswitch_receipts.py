"""Smartswitch delivery receipts: every documented state maps; garbage is InvalidCallback, only."""

from __future__ import annotations

import random

import pytest

from dispatcher.errors import InvalidCallback
from dispatcher.providers.outcomes import DeliveryStatus
from dispatcher.providers.smartswitch import MESSAGE_STATES, parse_receipt

FORM = "application/x-www-form-urlencoded"

EXPECTED = {
    "enroute": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "expired": DeliveryStatus.EXPIRED,
    "undeliverable": DeliveryStatus.UNDELIVERED,
    "accepted": DeliveryStatus.SENT,
    "unknown": DeliveryStatus.UNKNOWN,
    "rejected": DeliveryStatus.FAILED,
}


def test_smartswitch_every_documented_state_is_mapped() -> None:
    assert dict(MESSAGE_STATES) == EXPECTED


@pytest.mark.parametrize(("state", "status"), EXPECTED.items())
def test_smartswitch_form_receipt_is_parsed(state: str, status: DeliveryStatus) -> None:
    report = parse_receipt(f"message_id=1561370632513&message_state={state}".encode(), FORM)
    assert report.provider == "smartswitch"
    assert report.provider_message_id == "1561370632513"
    assert report.kind == "status"
    assert report.status is status
    assert report.provider_status == state


@pytest.mark.parametrize("content_type", ["", f"{FORM}; charset=UTF-8", "Application/X-WWW-Form-Urlencoded"])
def test_smartswitch_form_is_the_default_encoding(content_type: str) -> None:
    report = parse_receipt(b"message_state=delivered&message_id=42&extra=ignored", content_type)
    assert (report.provider_message_id, report.status) == ("42", DeliveryStatus.DELIVERED)


@pytest.mark.parametrize(
    "body",
    [
        b'{"message_id":"1561370632513","message_state":"expired"}',
        b'{"message_id":1561370632513,"message_state":"expired"}',
    ],
)
def test_smartswitch_json_receipt_is_parsed(body: bytes) -> None:
    report = parse_receipt(body, "application/json; charset=utf-8")
    assert (report.provider_message_id, report.status) == ("1561370632513", DeliveryStatus.EXPIRED)


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b"message_id=1&message_state=delivered", "text/plain", "content_type"),
        (b"message_id=1&message_state=delivered", "multipart/form-data; boundary=x", "content_type"),
        (b"message_id=1&message_state=delivered", f"{FORM}; charset=latin-1", "content_type"),
        (b"message_id=1&message_state=\xff\xfe", FORM, "body"),
        (b"message_id=1&message_state=%ff", FORM, "body"),
        (b"just some text", FORM, "body"),
        (b"", FORM, "message_id"),
        (b"message_state=delivered", FORM, "message_id"),
        (b"message_id=&message_state=delivered", FORM, "message_id"),
        (b"message_id=a%20b&message_state=delivered", FORM, "message_id"),
        (b"message_id=1&message_id=2&message_state=delivered", FORM, "message_id"),
        (b"message_id=1", FORM, "message_state"),
        (b"message_id=1&message_state=DELIVERED", FORM, "message_state"),
        (b"message_id=1&message_state=read", FORM, "message_state"),
        (b"message_id=1&message_state=delivered&message_state=expired", FORM, "message_state"),
        (b'{"message_id":"1","message_state":"delivered"', "application/json", "body"),
        (b"\xff\xfe{}", "application/json", "body"),
        (b'["message_id","message_state"]', "application/json", "body"),
        (b"null", "application/json", "body"),
        (b'{"message_id":true,"message_state":"delivered"}', "application/json", "message_id"),
        (b'{"message_id":1.5,"message_state":"delivered"}', "application/json", "message_id"),
        (b'{"message_id":{"a":1},"message_state":"delivered"}', "application/json", "message_id"),
        (b'{"message_id":"1","message_state":["delivered"]}', "application/json", "message_state"),
        (b'{"message_id":"1","message_state":null}', "application/json", "message_state"),
        (b"[" * 5000, "application/json", "body"),
    ],
)
def test_smartswitch_malformed_receipt_names_field_value_and_rule(
    body: bytes, content_type: str, field: str
) -> None:
    with pytest.raises(InvalidCallback) as error:
        parse_receipt(body, content_type)
    (problem,) = error.value.problems
    assert problem.field == field
    assert problem.rule
    assert str(error.value).startswith(f"{field}=")


def test_smartswitch_random_bytes_never_raise_anything_but_invalid_callback() -> None:
    rng = random.Random(20240601)
    content_types = [FORM, "application/json", "", "text/html", "application/json; charset=utf-8"]
    refused = 0
    for _ in range(1000):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        try:
            parse_receipt(body, rng.choice(content_types))
        except InvalidCallback:
            refused += 1
    assert refused == 1000
