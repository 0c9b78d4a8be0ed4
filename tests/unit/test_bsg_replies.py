"""How BSG's answers are read: send outcomes, lookup items, JWT expiry (pure functions, no network)."""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from dispatcher.errors import DuplicateSubmission, RateLimited, UnexpectedResponse
from dispatcher.providers.base import HttpReply
from dispatcher.providers.bsg import interpret_send_reply, remote_message
from dispatcher.providers.bsg_auth import jwt_expiry
from dispatcher.providers.outcomes import DeliveryStatus, Rejected, Submitted

DOCUMENTED_REPLY = {
    "data": {
        "id": 3272625619,
        "reference_id": None,
        "source": "rest",
        "type": "rcs",
        "phone": 380661231231,
        "status": "accepted",
        "validity": 72,
        "amount": {"value": "1.2079098", "currency": "USD"},
        "sender": "rcs_sender",
        "created_at": "2025-04-14 13:41:24",
        "sent_at": None,
        "delivered_at": None,
    }
}


def _reply(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpReply:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return HttpReply(status=status, headers=headers or {}, body=raw)


def _jwt(claims: dict[str, Any]) -> str:
    def segment(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(part)).rstrip(b"=").decode()

    return f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize("status", [200, 201])
def test_bsg_documented_reply_is_submitted_with_its_id(status: int) -> None:
    assert interpret_send_reply(_reply(status, DOCUMENTED_REPLY), provider="bsg") == Submitted("3272625619")


def test_bsg_422_is_rejected_naming_every_field() -> None:
    body = {
        "message": "The given data was invalid.",
        "errors": {"phone.number": ["The phone.number format is invalid."], "sender": ["Unknown sender."]},
    }

    outcome = interpret_send_reply(_reply(422, body), provider="bsg")

    assert isinstance(outcome, Rejected)
    assert outcome.code == "422"
    assert "phone.number: The phone.number format is invalid." in outcome.reason
    assert "sender: Unknown sender." in outcome.reason


def test_bsg_429_for_a_reused_reference_id_is_a_duplicate_submission() -> None:
    with pytest.raises(DuplicateSubmission):
        interpret_send_reply(_reply(429, {"message": "Too many duplicate request detected"}), provider="bsg")


@pytest.mark.parametrize("body", [b"", b"slow down", orjson.dumps({"message": "Too Many Attempts."})])
def test_bsg_any_other_429_is_rate_limited_with_retry_after(body: bytes) -> None:
    with pytest.raises(RateLimited) as caught:
        interpret_send_reply(_reply(429, body, {"retry-after": "7"}), provider="bsg")

    assert caught.value.retry_after_s == 7.0


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"<html>ok</html>"),
        (200, {"data": {"status": "accepted"}}),
        (200, {"data": [1]}),
        (201, {"data": {"id": True}}),
        (422, {"message": "The given data was invalid."}),
        (422, b"not json"),
        (404, {"message": "Not found"}),
    ],
)
def test_bsg_unreadable_reply_is_unexpected_response(status: int, body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        interpret_send_reply(_reply(status, body), provider="bsg")


def test_bsg_lookup_item_carries_id_reference_status_and_creation_time() -> None:
    item = {**DOCUMENTED_REPLY["data"], "reference_id": "ref1", "status": "delivered"}

    remote = remote_message(item, provider="bsg")

    assert remote.provider_message_id == "3272625619"
    assert remote.reference_id == "ref1"
    assert remote.provider_status == "delivered"
    assert remote.status is DeliveryStatus.DELIVERED
    assert remote.created_at == datetime(2025, 4, 14, 13, 41, 24, tzinfo=UTC)


def test_bsg_lookup_item_still_with_the_provider_has_no_status_yet() -> None:
    assert remote_message(DOCUMENTED_REPLY["data"], provider="bsg").status is None


def test_bsg_lookup_item_without_id_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse):
        remote_message({"status": "sent"}, provider="bsg")


def test_bsg_jwt_expiry_is_read_from_the_payload() -> None:
    assert jwt_expiry(_jwt({"sub": "1", "exp": 1_900_000_000})) == 1_900_000_000.0


@pytest.mark.parametrize(
    "token",
    ["opaque-token", "a.b.c", _jwt({"sub": "1"}), _jwt({"exp": "soon"}), _jwt({"exp": True}), "a.!!!.c"],
)
def test_bsg_token_without_readable_expiry_never_expires_proactively(token: str) -> None:
    assert jwt_expiry(token) == math.inf
