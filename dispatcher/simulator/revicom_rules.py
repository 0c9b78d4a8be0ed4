"""Revicom's documented rules for one item of ``POST /api/v1/message``, as a pure function.

``item_problem`` returns the ``msg`` of the whole-request 4220 error a rule violation gets, or None.
All msgs live in ``MSG``: two are documented ("Invalid content", "Invalid msisdn"), the others
follow their pattern (*unconfirmed*). Per-message refusals that the provider decides per account
(sender approval, block list, disabled channel) are not here: see ``revicom.item_refusal``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatcher.numbering import is_valid_e164_digits as is_valid_msisdn
from dispatcher.simulator.checks import int_in, is_http_url, unique_ints_in

MAX_ITEMS = 1000

MSG = {
    "body": "Invalid request body",
    "count": "Invalid number of messages",
    "channelType": "Invalid channelType",
    "senderName": "Invalid senderName",
    "destination": "Invalid msisdn",
    "content": "Invalid content",
    "tags": "Invalid tags",
    "ttl": "Invalid ttl",
    "useLocalTime": "Invalid useLocalTime",
    "localSendTime": "Invalid localSendTime",
    "localCompletionTime": "Invalid localCompletionTime",
    "hours": "Invalid hours",
    "days": "Invalid days",
    "shortUrl": "Invalid shortUrl",
    "callbackUrl": "Invalid callbackUrl",
    "callbackEvents": "Invalid callbackEvents",
    "externalMessageId": "Invalid externalMessageId",
    "uuids": "Invalid uuids",
    "page": "Invalid page",
    "time": "Invalid time",
}


def unknown_field_msg(name: str) -> str:
    return f"Unknown field {name}"


REQUIRED = ("channelType", "senderName", "destination", "content")
_COMMON = frozenset({*REQUIRED, "tags", "callbackUrl", "callbackEvents"})
_SCHEDULING = frozenset({"useLocalTime", "localSendTime", "localCompletionTime", "hours", "days", "shortUrl"})
ALLOWED_FIELDS = {
    "SMS": _COMMON | _SCHEDULING | {"ttl"},
    "VK": _COMMON | _SCHEDULING | {"ttl"},
    "VOICECODE": _COMMON | {"ttl", "externalMessageId"},
    "FLASHCALL": _COMMON,
    # WhatsApp needs a manager to enable it; its optional fields are not published.
    "WHATSAPP": _COMMON,
}
TTL_RANGE_S = {"SMS": (60, 86400), "VK": (60, 86400), "VOICECODE": (30, 86400)}
VOICECODE_SENDER = "voicecode"
VK_MAX_CHARS = 2048
VOICECODE_MAX_CHARS = 1000
EXTERNAL_ID_MAX_CHARS = 100
CALLBACK_EVENTS = frozenset({"delivered", "sent", "read", "price", "click"})
DEFAULT_CALLBACK_EVENTS = ("delivered",)
SEND_TIME_EARLIEST = timedelta(hours=-12)
SEND_TIME_LATEST = timedelta(days=7)
COMPLETION_TIME_LATEST = timedelta(days=70)

# `\w` is ASCII-only here: the docs spell it out as letters, digits and underscore.
_TAG = re.compile(r"[A-Za-z0-9_]+")
_FLASHCALL_CODE = re.compile(r"[0-9]{4}")
#: `1234`, `1 2 3 4` or `1-2-3-4`; the brand is any text without surrounding spaces.
VOICECODE_TEMPLATE = re.compile(
    r"Код авторизации от (?P<brand>\S(?:.*\S)?): (?P<code>[0-9]+|[0-9](?: [0-9])+|[0-9](?:-[0-9])+)"
)
_LOCAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_BOM = "\ufeff"


def parse_local_time(value: Any) -> datetime | None:
    """``YYYY-MM-DD hh:mm:ss`` as a UTC datetime (the docs bound it against UTC), or None."""
    if not isinstance(value, str) or _LOCAL_TIME.fullmatch(value) is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _content_ok(content: Any, channel: str) -> bool:
    if channel == "SMS":
        return isinstance(content, str) and content != "" and not content.startswith(_BOM)
    if channel == "VK":
        return isinstance(content, str) and 1 <= len(content) <= VK_MAX_CHARS
    if channel == "FLASHCALL":
        return isinstance(content, str) and _FLASHCALL_CODE.fullmatch(content) is not None
    if channel == "VOICECODE":
        if not isinstance(content, dict) or set(content) != {"contentType", "text"}:
            return False
        text = content["text"]
        return (
            content["contentType"] == "text"
            and isinstance(text, str)
            and 1 <= len(text) <= VOICECODE_MAX_CHARS
            and VOICECODE_TEMPLATE.fullmatch(text) is not None
        )
    return isinstance(content, dict) and bool(content)  # WHATSAPP: content types unconfirmed


def _sender_ok(sender: Any, channel: str) -> bool:
    if not isinstance(sender, str):
        return False
    if channel == "VOICECODE":
        return sender == VOICECODE_SENDER
    if channel == "FLASHCALL":
        return True  # "any string is allowed"
    return sender != ""


def _schedule_problem(item: dict[str, Any], now: datetime) -> str | None:
    send_time = None
    if "localSendTime" in item:
        send_time = parse_local_time(item["localSendTime"])
        if send_time is None or not now + SEND_TIME_EARLIEST <= send_time <= now + SEND_TIME_LATEST:
            return MSG["localSendTime"]
    if "localCompletionTime" in item:
        completion = parse_local_time(item["localCompletionTime"])
        earliest = send_time if send_time is not None else now + SEND_TIME_EARLIEST
        if completion is None or not earliest <= completion <= now + COMPLETION_TIME_LATEST:
            return MSG["localCompletionTime"]
    return None


def _tags_ok(tags: Any, channel: str) -> bool:
    return isinstance(tags, list) and all(isinstance(tag, str) and _TAG.fullmatch(tag) for tag in tags)


def _events_ok(events: Any, channel: str) -> bool:
    return isinstance(events, list) and all(isinstance(e, str) and e in CALLBACK_EVENTS for e in events)


def _external_id_ok(external_id: Any, channel: str) -> bool:
    return isinstance(external_id, str) and 1 <= len(external_id) <= EXTERNAL_ID_MAX_CHARS


def _destination_ok(destination: Any, channel: str) -> bool:
    return isinstance(destination, str) and is_valid_msisdn(destination)


FieldCheck = Callable[[Any, str], bool]
#: Required fields in the order they are checked (so a bad number is reported as "Invalid msisdn"
#: even when the content is bad too).
_REQUIRED_CHECKS: tuple[tuple[str, FieldCheck], ...] = (
    ("senderName", _sender_ok),
    ("destination", _destination_ok),
    ("content", _content_ok),
)
#: Optional fields with a rule of their own; localSendTime/localCompletionTime depend on each other
#: and on the clock, so `_schedule_problem` checks them.
_OPTIONAL_CHECKS: dict[str, FieldCheck] = {
    "tags": _tags_ok,
    "ttl": lambda ttl, channel: int_in(ttl, *TTL_RANGE_S[channel]),
    "useLocalTime": lambda flag, channel: type(flag) is bool,
    "shortUrl": lambda flag, channel: type(flag) is bool,
    "hours": lambda hours, channel: unique_ints_in(hours, 0, 23),
    "days": lambda days, channel: unique_ints_in(days, 1, 7),
    "callbackUrl": lambda url, channel: is_http_url(url),
    "callbackEvents": _events_ok,
    "externalMessageId": _external_id_ok,
}


def item_problem(item: Any, now: datetime) -> str | None:
    """The 4220 msg for the first rule this item breaks, or None when it follows them all."""
    if not isinstance(item, dict):
        return MSG["body"]
    channel = item.get("channelType")
    if not isinstance(channel, str) or channel not in ALLOWED_FIELDS:
        return MSG["channelType"]
    allowed = ALLOWED_FIELDS[channel]
    unknown = next((name for name in item if name not in allowed), None)
    if unknown is not None:
        return unknown_field_msg(unknown)
    for name, check in _REQUIRED_CHECKS:
        if name not in item or not check(item[name], channel):
            return MSG[name]
    # The common case has nothing optional to check.
    return None if len(item) == len(REQUIRED) else _optional_problem(item, channel, now)


def _optional_problem(item: dict[str, Any], channel: str, now: datetime) -> str | None:
    for name, value in item.items():
        check = _OPTIONAL_CHECKS.get(name)
        if check is not None and not check(value, channel):
            return MSG[name]
    return _schedule_problem(item, now)


def request_problem(body: Any, now: datetime) -> str | None:
    """The 4220 msg for a whole send request, or None when every item is valid."""
    if not isinstance(body, list):
        return MSG["body"]
    if not 1 <= len(body) <= MAX_ITEMS:
        return MSG["count"]
    for item in body:
        problem = item_problem(item, now)
        if problem is not None:
            return problem
    return None
