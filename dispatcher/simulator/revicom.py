"""Revicom Direct API: send, get, stop and balance under ``/revicom/api/v1``."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.simulator.callbacks import utc_iso
from dispatcher.simulator.config import Credentials, SimConfig
from dispatcher.simulator.gsm7 import segment_count
from dispatcher.simulator.lifecycle import INITIAL_STATUS
from dispatcher.simulator.responses import json_response, parse_json
from dispatcher.simulator.revicom_rules import (
    DEFAULT_CALLBACK_EVENTS,
    MSG,
    parse_local_time,
    request_problem,
)
from dispatcher.simulator.state import SimulatorState, sim_state
from dispatcher.simulator.store import SimMessage

AUTH_ERRORS = {4010: (401, "Not Authenticated"), 4012: (401, "Bad credentials"), 4030: (403, "Access Denied")}
#: Per-item codes (only 201 is documented; the refusal codes are *unconfirmed*).
CREATED = 201
ITEM_REFUSALS = {"sender_not_approved": 403, "channel_not_enabled": 403, "number_blocked": 400}
#: Stop codes (stop page): will be stopped / may not be stopped / being sent or sent / not found.
STOP_WILL, STOP_MAY_NOT, STOP_SENT, STOP_NOT_FOUND = 200, 202, 403, 404
MAX_STOP_UUIDS = 10_000
MAX_PAGE_WINDOW = 10_000
DEFAULT_PER_PAGE = 100
PRICE_PER_PART_USD = 0.01
#: useLocalTime=false means Moscow time; the subscriber's own zone is approximated by UTC.
MOSCOW_OFFSET = timedelta(hours=3)
_TIME_FILTER_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def error_response(code: int, msg: str | None = None) -> Response:
    status, default_msg = AUTH_ERRORS.get(code, (422, ""))
    return json_response({"error": {"code": code, "msg": msg or default_msg}}, status)


def invalid(msg: str) -> Response:
    return error_response(4220, msg)


def auth_error(header: str | None, credentials: Credentials, *, any_token_type: bool) -> int | None:
    """4010 for a missing or garbled Basic header, 4012 for an unknown token, 4030 for the wrong type."""
    if not header or not header.startswith("Basic "):
        return 4010
    token = header[len("Basic ") :].strip()
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return 4010
    if b":" not in decoded:
        return 4010
    if hmac.compare_digest(token, credentials.revicom_token):
        return None
    if hmac.compare_digest(token, credentials.revicom_other_token):
        return None if any_token_type else 4030
    return 4012


def _denied(request: Request, sim: SimulatorState, *, any_token_type: bool = False) -> Response | None:
    code = auth_error(request.headers.get("authorization"), sim.credentials, any_token_type=any_token_type)
    return None if code is None else error_response(code)


def item_refusal(item: dict[str, Any], config: SimConfig, blocked: frozenset[str]) -> int | None:
    """The per-item code for a valid item the account may not send, or None to create it."""
    channel = item["channelType"]
    if channel == "WHATSAPP":
        return ITEM_REFUSALS["channel_not_enabled"]
    if item["destination"] in blocked:
        return ITEM_REFUSALS["number_blocked"]
    approved = config.revicom_approved_senders
    if channel == "SMS" and approved is not None and item["senderName"] not in approved:
        return ITEM_REFUSALS["sender_not_approved"]
    return None


def _not_before(item: dict[str, Any]) -> float | None:
    send_time = parse_local_time(item.get("localSendTime"))
    if send_time is None:
        return None
    if item.get("useLocalTime") is False:
        send_time -= MOSCOW_OFFSET
    return send_time.timestamp()


async def send(request: Request) -> Response:
    sim = sim_state(request)
    denied = _denied(request, sim)
    if denied is not None:
        return denied
    if "json" not in request.headers.get("content-type", ""):
        return invalid(MSG["body"])
    parsed, body = parse_json(await request.body())
    if not parsed:
        return invalid(MSG["body"])
    problem = request_problem(body, datetime.now(UTC))
    if problem is not None:
        return invalid(problem)
    seq: int = request.scope["sim.seq"]
    now = time.time()
    config = sim.config
    blocked = frozenset(config.blocked_numbers)
    new_uuid = sim.ids.revicom_uuid
    items: list[dict[str, Any]] = []
    immediate: list[SimMessage] = []
    for item in body:
        refusal = item_refusal(item, config, blocked)
        if refusal is not None:
            items.append({"messageUuid": None, "code": refusal})
            continue
        callback_url = item.get("callbackUrl")
        message = SimMessage(
            provider="revicom",
            id=new_uuid(),
            destination=item["destination"],
            channel=item["channelType"],
            request_seq=seq,
            payload=item,
            status=INITIAL_STATUS["revicom"],
            created_at=now,
            status_at=now,
            tags=item.get("tags", []),
            callback_url=callback_url,
            callback_events=tuple(item.get("callbackEvents", DEFAULT_CALLBACK_EVENTS))
            if callback_url
            else (),
        )
        sim.store.add(message)
        items.append({"messageUuid": message.id, "code": CREATED})
        not_before = _not_before(item) if "localSendTime" in item else None
        if not_before is not None and not_before > now:
            message.not_before = not_before
            sim.lifecycle.accept([message], not_before=not_before)
        else:
            immediate.append(message)
    sim.lifecycle.accept(immediate)
    return json_response({"errors": any(entry["code"] != CREATED for entry in items), "items": items})


def message_object(message: SimMessage) -> dict[str, Any]:
    """A message as ``GET /api/v1/message`` returns it."""
    payload = message.payload
    content = payload["content"]
    parts = segment_count(content) if message.channel == "SMS" else 1
    return {
        "messageUuid": message.id,
        "externalMessageId": payload.get("externalMessageId"),
        "channelType": message.channel,
        "senderName": payload["senderName"],
        "destination": message.destination,
        "content": content,
        "totalParts": parts,
        "price": {
            "totalPrice": round(parts * PRICE_PER_PART_USD, 4),
            "currency": "USD",
            "invoicedParts": parts,
            "final": message.final,
        },
        "sentTime": utc_iso(message.sent_at) if message.sent_at is not None else None,
        "statusTime": utc_iso(message.status_at),
        "status": message.status,
        "errorCode": message.error_code,
    }


def _positive_int(text: str | None, default: int) -> int | None:
    if text is None:
        return default
    return int(text) if text.isdigit() and int(text) >= 1 else None


def _time_filter(text: str | None) -> float | None:
    """Epoch seconds, or None when absent; ValueError when malformed."""
    if text is None:
        return None
    return datetime.strptime(text, _TIME_FILTER_FORMAT).replace(tzinfo=UTC).timestamp()


def _matches(
    message: SimMessage, filters: dict[str, list[str]], time_from: float | None, time_to: float | None
) -> bool:
    checks = (
        ("message_uuid", message.id),
        ("destination", message.destination),
        ("status", message.status),
        ("channel_type", message.channel),
        ("sender_name", message.payload["senderName"]),
    )
    if any(name in filters and value not in filters[name] for name, value in checks):
        return False
    if "tags" in filters and not set(filters["tags"]).intersection(message.tags):
        return False
    if time_from is None and time_to is None:
        return True
    # Sending time, or the time of the final `unsent` status (get page).
    moment = (
        message.sent_at
        if message.sent_at is not None
        else (message.status_at if message.status == "unsent" else None)
    )
    if moment is None:
        return False
    return (time_from is None or moment >= time_from) and (time_to is None or moment <= time_to)


async def get_messages(request: Request) -> Response:
    sim = sim_state(request)
    denied = _denied(request, sim)
    if denied is not None:
        return denied
    query = request.query_params
    page = _positive_int(query.get("page"), 1)
    per_page = _positive_int(query.get("per_page"), DEFAULT_PER_PAGE)
    if page is None or per_page is None or page * per_page > MAX_PAGE_WINDOW:
        return invalid(MSG["page"])
    try:
        time_from, time_to = _time_filter(query.get("time_from")), _time_filter(query.get("time_to"))
    except ValueError:
        return invalid(MSG["time"])
    filters = {
        name: query.getlist(name)
        for name in ("message_uuid", "destination", "status", "tags", "channel_type", "sender_name")
        if name in query
    }
    if "tags" in filters:
        seen: dict[str, SimMessage] = {}
        for tag in filters["tags"]:
            for message in sim.store.revicom_by_tag.get(tag, ()):
                seen.setdefault(message.id, message)
        candidates = sorted(seen.values(), key=lambda message: (message.created_at, message.request_seq))
    else:
        candidates = sim.store.all("revicom")
    selected = [m for m in candidates if _matches(m, filters, time_from, time_to)]
    window = selected[(page - 1) * per_page : page * per_page]
    return json_response({"items": [message_object(message) for message in window]})


def _stop_code(message: SimMessage | None, now: float) -> int:
    if message is None:
        return STOP_NOT_FOUND
    if message.final or message.sent_at is not None:
        return STOP_SENT
    if message.not_before > now:
        return STOP_WILL
    return STOP_MAY_NOT  # queued for sending right now: the simulator lets it go


async def stop(request: Request) -> Response:
    sim = sim_state(request)
    denied = _denied(request, sim)
    if denied is not None:
        return denied
    parsed, body = parse_json(await request.body())
    uuids = body.get("uuids") if parsed and isinstance(body, dict) and set(body) == {"uuids"} else None
    if (
        not isinstance(uuids, list)
        or not 1 <= len(uuids) <= MAX_STOP_UUIDS
        or not all(isinstance(u, str) for u in uuids)
    ):
        return invalid(MSG["uuids"])
    now = time.time()
    items = [{"messageUuid": uuid, "code": _stop_code(sim.store.get("revicom", uuid), now)} for uuid in uuids]
    stopping = [sim.store.get("revicom", item["messageUuid"]) for item in items if item["code"] == STOP_WILL]
    sim.lifecycle.stop([message for message in stopping if message is not None])
    return json_response({"errors": any(item["code"] != STOP_WILL for item in items), "items": items})


async def balance(request: Request) -> Response:
    sim = sim_state(request)
    denied = _denied(request, sim, any_token_type=True)
    if denied is not None:
        return denied
    return json_response({"USD": sim.config.revicom_balance_usd})


ROUTES = [
    Route("/revicom/api/v1/message", send, methods=["POST"]),
    Route("/revicom/api/v1/message", get_messages, methods=["GET"]),
    Route("/revicom/api/v1/message/stop", stop, methods=["POST"]),
    Route("/revicom/api/v1/balance", balance, methods=["GET"]),
]
