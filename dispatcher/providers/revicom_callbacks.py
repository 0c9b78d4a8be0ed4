"""Revicom delivery callbacks: the JSON array the provider POSTs to a message's ``callbackUrl``.

::

    [{"message_uuid": "...", "channel_type": "SMS", "callback_event": "delivered",
      "status": "undelivered", "status_time": "2020-10-16T18:51:13Z",
      "cascade_message_uuid": "...", "cascade_step": 2, "error_code": 6969}]

A body we cannot read raises ``InvalidCallback`` naming field, value and rule, and nothing else:
the HTTP handler answers 4xx and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import orjson

from dispatcher.errors import InvalidCallback, Problem
from dispatcher.providers.outcomes import DeliveryReport, DeliveryStatus

PROVIDER = "revicom"

#: The provider's statuses, normalised (the one place this mapping lives).
STATUS_TABLE: dict[str, DeliveryStatus] = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,  # not delivered within its lifetime (default 25 h)
    "unsent": DeliveryStatus.FAILED,  # the provider gave up (or the message was stopped)
    "read": DeliveryStatus.READ,
    "unread": DeliveryStatus.DELIVERED,  # delivered, not read: not a failure
}

#: Events that report a state; ``price`` and ``click`` only inform (their bodies are unconfirmed, so
#: their ``status`` is kept as the provider's text without being checked against the table).
STATUS_EVENTS = frozenset({"sent", "delivered", "read"})
INFO_EVENTS: dict[str, Literal["price", "click"]] = {"price": "price", "click": "click"}

_REQUIRED_TEXT = ("message_uuid", "channel_type", "callback_event", "status", "status_time")


def parse_callback(body: bytes) -> list[DeliveryReport]:
    """Every event in the body, in order; ``InvalidCallback`` when any part of it is malformed."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidCallback([Problem("(body)", _excerpt(body), "must be JSON")]) from None
    if not isinstance(document, list):
        raise InvalidCallback([Problem("(body)", _excerpt(document), "must be a JSON array of events")])
    problems: list[Problem] = []
    reports = []
    for index, event in enumerate(document):
        report = _report(event, f"[{index}]", problems)
        if report is not None:
            reports.append(report)
    if problems:
        raise InvalidCallback(problems)
    return reports


def _report(event: Any, where: str, problems: list[Problem]) -> DeliveryReport | None:
    """The event's report, or ``None`` after adding what is wrong with it to ``problems``."""
    if not isinstance(event, dict):
        problems.append(Problem(where, _excerpt(event), "each event must be a JSON object"))
        return None
    found_before = len(problems)
    problem = problems.append
    for name in _REQUIRED_TEXT:
        value = event.get(name)
        if not isinstance(value, str) or not value:
            problem(Problem(f"{where}.{name}", value, "is required: a non-empty string"))
    occurred_at = _status_time(event.get("status_time"), f"{where}.status_time", problem)
    error_code = _optional_int(event, "error_code", where, problem, minimum=None)
    _optional_int(event, "cascade_step", where, problem, minimum=1)
    cascade_uuid = event.get("cascade_message_uuid")
    if cascade_uuid is not None and (not isinstance(cascade_uuid, str) or not cascade_uuid):
        problem(Problem(f"{where}.cascade_message_uuid", cascade_uuid, "must be a non-empty string"))
    if len(problems) > found_before:
        return None

    callback_event, status = event["callback_event"], event["status"]
    if callback_event in INFO_EVENTS:
        return DeliveryReport(
            provider=PROVIDER,
            provider_message_id=event["message_uuid"],
            kind=INFO_EVENTS[callback_event],
            status=None,
            provider_status=status,
            occurred_at=occurred_at,
            error_code=error_code,
        )
    if callback_event not in STATUS_EVENTS:
        known = ", ".join(sorted(STATUS_EVENTS | INFO_EVENTS.keys()))
        problem(Problem(f"{where}.callback_event", callback_event, f"must be one of {known}"))
        return None
    if status not in STATUS_TABLE:
        problem(Problem(f"{where}.status", status, f"must be one of {', '.join(STATUS_TABLE)}"))
        return None
    return DeliveryReport(
        provider=PROVIDER,
        provider_message_id=event["message_uuid"],
        kind="status",
        status=STATUS_TABLE[status],
        provider_status=status,
        occurred_at=occurred_at,
        error_code=error_code,
    )


def _status_time(value: Any, field: str, problem: Callable[[Problem], None]) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None  # reported as a missing required field
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problem(Problem(field, value, "must be an ISO 8601 time with a zone, like 2020-10-16T18:51:13Z"))
        return None
    return moment


def _optional_int(
    event: dict[str, Any], name: str, where: str, problem: Callable[[Problem], None], *, minimum: int | None
) -> str | None:
    value = event.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
        rule = "must be an integer" + (f" >= {minimum}" if minimum is not None else "")
        problem(Problem(f"{where}.{name}", value, rule))
        return None
    return str(value)


def _excerpt(value: Any) -> str:
    return repr(value)[:200]
