"""Revicom Direct on the wire, as pure functions: request bodies from our models, and the provider's
responses read into outcomes or errors. ``revicom.py`` does the I/O around them.

Wire names (camelCase) appear only in this module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson

from dispatcher.errors import (
    AccessDenied,
    BadCredentials,
    BatchRejected,
    NotAuthenticated,
    ProviderError,
    UnexpectedResponse,
)
from dispatcher.models.revicom import RevicomFlashCall, RevicomMessage, RevicomVoiceCode
from dispatcher.models.revicom_fields import format_local_time, is_valid_tag
from dispatcher.providers.outcomes import Outcome, Rejected, Submitted

PROVIDER = "revicom"
#: The send method takes 1 to 1,000 messages.
MAX_MESSAGES_PER_REQUEST = 1000
#: Unconfirmed (no published limit): 1 MiB, the default request-body limit of nginx, the most common
#: front server; 1,000 ordinary SMS fit several times over. Batchers measure with ``encode_batch``.
MAX_REQUEST_BODY_BYTES = 1024 * 1024
#: Get messages: ``page * per_page <= 10000``.
MAX_MESSAGES_PER_QUERY = 10_000
#: Stop messages: at most 10,000 uuids per request.
MAX_UUIDS_PER_STOP = 10_000
#: The per-item code of a message the provider created.
ITEM_CREATED = 201

_ACCOUNT_ERRORS: dict[int, type[NotAuthenticated | BadCredentials | AccessDenied]] = {
    4010: NotAuthenticated,
    4012: BadCredentials,
    4030: AccessDenied,
}
_INVALID_REQUEST = 4220

# Optional fields, in the order of the provider's examples: (model attribute, wire name).
_OPTIONAL_FIELDS = (
    ("external_message_id", "externalMessageId"),
    ("local_send_time", "localSendTime"),
    ("local_completion_time", "localCompletionTime"),
    ("use_local_time", "useLocalTime"),
    ("ttl_s", "ttl"),
    ("hours", "hours"),
    ("days", "days"),
    ("short_url", "shortUrl"),
    ("callback_url", "callbackUrl"),
    ("callback_events", "callbackEvents"),
    ("tags", "tags"),
)


def wire_message(message: RevicomMessage) -> dict[str, Any]:
    """The provider's JSON object for one message: required fields, then only the options set."""
    wire: dict[str, Any] = {
        "channelType": message.channel,
        "senderName": message.sender_name,
        "destination": message.destination,
        "content": _content(message),
    }
    # The instance dict, not getattr: a channel without the field (VOICECODE has no `hours`) would
    # go through pydantic's slow attribute fallback, the larger part of encoding at intake.
    fields = message.__dict__
    for attribute, wire_name in _OPTIONAL_FIELDS:
        value = fields.get(attribute)
        if value is None or value == ():
            continue
        if isinstance(value, datetime):
            value = format_local_time(value)
        elif isinstance(value, tuple):
            value = list(value)
        wire[wire_name] = value
    return wire


def _content(message: RevicomMessage) -> str | dict[str, str]:
    if isinstance(message, RevicomVoiceCode):
        return {"contentType": "text", "text": message.text}
    if isinstance(message, RevicomFlashCall):
        return message.code
    return message.text


def wire_batch(messages: Sequence[RevicomMessage], request_tag: str) -> list[dict[str, Any]]:
    """The request body: every message, each also tagged with ``request_tag``.

    The tag must be unique to this request: after a lost response, looking it up shows exactly what
    the request created. Breaking the item or size limits is a bug in the caller (ValueError).
    """
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_REQUEST:
        raise ValueError(
            f"a Revicom request holds 1..{MAX_MESSAGES_PER_REQUEST} messages, not {len(messages)}"
        )
    if not is_valid_tag(request_tag):
        raise ValueError(f"request tag {request_tag!r} must match ^\\w+$ (ASCII letters, digits, '_')")
    batch = [tagged(wire_message(message), request_tag) for message in messages]
    size = len(encode_batch(batch))
    if size > MAX_REQUEST_BODY_BYTES:
        raise ValueError(f"a Revicom request body may be {MAX_REQUEST_BODY_BYTES} bytes, this one is {size}")
    return batch


def tagged(item: dict[str, Any], request_tag: str) -> dict[str, Any]:
    """``item`` with ``request_tag`` among its tags (the item itself if it has the tag already)."""
    tags = item.get("tags", [])
    return item if request_tag in tags else {**item, "tags": [*tags, request_tag]}


def encode_batch(batch: list[dict[str, Any]]) -> bytes:
    """The exact bytes sent (UTF-8 JSON, non-ASCII text unescaped)."""
    return orjson.dumps(batch)


def tagged_body(wires: Sequence[bytes], request_tag: str) -> bytes:
    """The request body for stored wire items (``wire_message`` output encoded by orjson), each
    tagged with ``request_tag``: the same bytes as ``encode_batch`` of the decoded, tagged items.

    Most items carry no tags of their own: the tag key is appended to their bytes, as orjson would
    write it, instead of decoding and re-encoding every item of a 1,000-message request.
    """
    suffix = b',"tags":["' + request_tag.encode() + b'"]}'
    return b"[" + b",".join([_tagged_wire(wire, request_tag, suffix) for wire in wires]) + b"]"


def _tagged_wire(wire: bytes, request_tag: str, suffix: bytes) -> bytes:
    # An object of at least one key (`{"`) with no "tags" anywhere: no key of that name either.
    if wire[:2] == b'{"' and wire[-1:] == b"}" and b'"tags"' not in wire:
        return wire[:-1] + suffix
    return orjson.dumps(tagged(orjson.loads(wire), request_tag))


def error_from_body(body: Any) -> ProviderError | None:
    """The error a documented ``{"error": {"code", "msg"}}`` body stands for, whatever the HTTP status.

    ``None`` when the body is not an error object; an error object with an unknown code is an
    ``UnexpectedResponse``.
    """
    if not isinstance(body, dict) or "error" not in body:
        return None
    error = body["error"]
    code = error.get("code") if isinstance(error, dict) else None
    reason = str(error.get("msg", "")) if isinstance(error, dict) else ""
    if isinstance(code, int) and not isinstance(code, bool):
        if code in _ACCOUNT_ERRORS:
            return _ACCOUNT_ERRORS[code](f"{code} {reason}", provider=PROVIDER, code=str(code))
        if code == _INVALID_REQUEST:
            return BatchRejected(f"{code} {reason}", provider=PROVIDER, code=str(code), reason=reason)
    return UnexpectedResponse(f"undocumented error body {_excerpt(body)}", provider=PROVIDER)


def read_reply(status: int, body: bytes, *, decimals: bool = False) -> Any:
    """The JSON of a successful reply; documented error bodies and anything else unreadable raise."""
    try:
        document = json.loads(body, parse_float=Decimal) if decimals else orjson.loads(body)
    except ValueError:
        raise UnexpectedResponse(
            f"HTTP {status} with a body that is not JSON: {body[:200]!r}", provider=PROVIDER
        ) from None
    error = error_from_body(document)
    if error is not None:
        raise error
    if not 200 <= status < 300:
        raise UnexpectedResponse(f"HTTP {status}: {_excerpt(document)}", provider=PROVIDER)
    return document


def outcomes_from_send(document: Any, *, expected: int) -> list[Outcome]:
    """One outcome per sent message, in order, from ``{"errors": bool, "items": [...]}``."""
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise UnexpectedResponse(f"send reply without an items list: {_excerpt(document)}", provider=PROVIDER)
    if len(items) != expected:
        raise UnexpectedResponse(
            f"send reply has {len(items)} items for {expected} messages", provider=PROVIDER
        )
    return [_outcome(item) for item in items]


def _outcome(item: Any) -> Outcome:
    # The common case first, in few steps: a reply holds one item per message sent.
    if type(item) is dict:
        code, uuid = item.get("code"), item.get("messageUuid")
        if code == ITEM_CREATED and type(code) is int and type(uuid) is str and uuid:
            return Submitted(uuid)
    code = item.get("code") if isinstance(item, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        raise UnexpectedResponse(
            f"send reply item without a numeric code: {_excerpt(item)}", provider=PROVIDER
        )
    uuid = item.get("messageUuid")
    if code == ITEM_CREATED:
        if not isinstance(uuid, str) or not uuid:
            raise UnexpectedResponse(
                f"created item without a messageUuid: {_excerpt(item)}", provider=PROVIDER
            )
        return Submitted(provider_message_id=uuid)
    # Per-item refusal codes and their texts are unconfirmed: keep whatever the item says.
    reason = item.get("msg") or item.get("message") or f"refused with code {code}"
    return Rejected(code=str(code), reason=str(reason))


@dataclass(frozen=True, slots=True)
class RemoteMessage:
    """A message as the provider holds it (get messages), enough to reconcile an ambiguous send."""

    message_uuid: str
    status: str | None
    channel_type: str | None = None
    destination: str | None = None
    sender_name: str | None = None
    tags: tuple[str, ...] = ()
    external_message_id: str | None = None
    error_code: str | None = None
    sent_time: str | None = None
    status_time: str | None = None


def remote_messages(document: Any) -> list[RemoteMessage]:
    """Message objects from a get-messages reply (a bare array, or an object with ``items``)."""
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise UnexpectedResponse(
            f"get-messages reply without a list: {_excerpt(document)}", provider=PROVIDER
        )
    return [_remote_message(item) for item in items]


def _remote_message(item: Any) -> RemoteMessage:
    uuid = item.get("messageUuid") if isinstance(item, dict) else None
    if not isinstance(uuid, str) or not uuid:
        raise UnexpectedResponse(f"message object without a messageUuid: {_excerpt(item)}", provider=PROVIDER)
    tags = item.get("tags")

    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value)

    return RemoteMessage(
        message_uuid=uuid,
        status=text("status"),
        channel_type=text("channelType"),
        destination=text("destination"),
        sender_name=text("senderName"),
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        external_message_id=text("externalMessageId"),
        error_code=text("errorCode"),
        sent_time=text("sentTime"),
        status_time=text("statusTime"),
    )


class StopResult(StrEnum):
    """What the provider says about stopping one message (the item ``code``)."""

    WILL_STOP = "will_stop"  # 200: it will be stopped (status ``unsent`` follows asynchronously)
    MAY_NOT_STOP = "may_not_stop"  # 202: it may not be stopped, it is already being sent
    TOO_LATE = "too_late"  # 403: it is being sent or was sent
    NOT_FOUND = "not_found"  # 404


_STOP_CODES = {
    200: StopResult.WILL_STOP,
    202: StopResult.MAY_NOT_STOP,
    403: StopResult.TOO_LATE,
    404: StopResult.NOT_FOUND,
}


def stop_results(document: Any) -> dict[str, StopResult]:
    """``{uuid: result}`` from ``{"errors": bool, "items": [{"messageUuid", "code"}]}``."""
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise UnexpectedResponse(f"stop reply without an items list: {_excerpt(document)}", provider=PROVIDER)
    results = {}
    for item in items:
        uuid = item.get("messageUuid") if isinstance(item, dict) else None
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(uuid, str) or code not in _STOP_CODES or isinstance(code, bool):
            raise UnexpectedResponse(f"stop reply item not understood: {_excerpt(item)}", provider=PROVIDER)
        results[uuid] = _STOP_CODES[code]
    return results


def balances(document: Any) -> dict[str, Decimal]:
    """``{"USD": Decimal("1200.00")}`` from ``{"USD": 1200.00}`` (parsed with exact decimals)."""
    if not isinstance(document, dict) or not all(
        isinstance(currency, str) and isinstance(amount, Decimal | int) and not isinstance(amount, bool)
        for currency, amount in document.items()
    ):
        raise UnexpectedResponse(
            f"balance reply is not {{currency: amount}}: {_excerpt(document)}", provider=PROVIDER
        )
    return {currency: Decimal(amount) for currency, amount in document.items()}


def _excerpt(value: Any) -> str:
    return repr(value)[:200]
