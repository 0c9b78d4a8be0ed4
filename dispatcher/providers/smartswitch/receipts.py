"""Smartswitch delivery receipts: the server POSTs ``message_id`` and ``message_state``,
form-encoded by default or JSON when configured so (HTTP_API_dlr).

Anything we cannot read raises ``InvalidCallback`` naming the field, the value and the rule; no other
exception leaves ``parse_receipt``, whatever the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from dispatcher.errors import InvalidCallback, Problem
from dispatcher.providers.outcomes import DeliveryReport, DeliveryStatus
from dispatcher.providers.smartswitch.response import PROVIDER

#: Every documented ``message_state`` and what it means for us.
MESSAGE_STATES: Mapping[str, DeliveryStatus] = {
    "enroute": DeliveryStatus.SENT,
    "accepted": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "expired": DeliveryStatus.EXPIRED,
    "undeliverable": DeliveryStatus.UNDELIVERED,
    "rejected": DeliveryStatus.FAILED,
    "unknown": DeliveryStatus.UNKNOWN,
}

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
#: Strict reading: the ids the server gives are digit strings; allow a little more, never whitespace.
MESSAGE_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def parse_receipt(body: bytes, content_type: str) -> DeliveryReport:
    """Read one delivery receipt; an empty ``content_type`` means the default, form encoding."""
    fields = _json_fields(body) if _media_type(content_type) == JSON_CONTENT_TYPE else _form_fields(body)
    message_id = _message_id(fields.get("message_id"))
    state = fields.get("message_state")
    if not isinstance(state, str) or state not in MESSAGE_STATES:
        raise _invalid("message_state", state, f"must be one of {', '.join(MESSAGE_STATES)}")
    return DeliveryReport(
        provider=PROVIDER,
        provider_message_id=message_id,
        kind="status",
        status=MESSAGE_STATES[state],
        provider_status=state,
    )


def _media_type(content_type: str) -> str:
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower() or FORM_CONTENT_TYPE
    if media_type not in (FORM_CONTENT_TYPE, JSON_CONTENT_TYPE):
        raise _invalid("content_type", content_type, f"must be {FORM_CONTENT_TYPE} or {JSON_CONTENT_TYPE}")
    charset = re.search(r"charset\s*=\s*\"?([\w-]+)", parameters, re.IGNORECASE)
    if charset and charset.group(1).lower() not in ("utf-8", "utf8", "us-ascii"):
        raise _invalid("content_type", content_type, "the charset must be UTF-8")
    return media_type


def _form_fields(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except UnicodeDecodeError:
        raise _invalid("body", body[:100], "must be form-encoded UTF-8 text") from None
    except ValueError:
        raise _invalid("body", body[:100], "must be form-encoded (name=value pairs joined by &)") from None
    for name in ("message_id", "message_state"):
        if len(parsed.get(name, ())) > 1:
            raise _invalid(name, parsed[name], "must appear once")
    return {name: values[0] for name, values in parsed.items()}


def _json_fields(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _invalid("body", body[:100], "must be a JSON object") from None
    if not isinstance(document, dict):
        raise _invalid("body", document, "must be a JSON object")
    return document


def _message_id(value: Any) -> str:
    # JSON may carry the numeric id as a number; a bool is an int to Python but never an id.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not MESSAGE_ID_PATTERN.fullmatch(value):
        raise _invalid(
            "message_id", value, "must be the message id from the send response (1..64 characters)"
        )
    return value


def _invalid(field: str, value: Any, rule: str) -> InvalidCallback:
    return InvalidCallback([Problem(field=field, value=value, rule=rule)])
