"""BSG One-API v2: login/refresh (JWT bearer), RCS send and message lookup under ``/bsg/api``."""

from __future__ import annotations

import hmac
import math
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.simulator.bsg_rules import VALIDITY_HOURS, request_errors
from dispatcher.simulator.callbacks import utc_plain
from dispatcher.simulator.lifecycle import INITIAL_STATUS
from dispatcher.simulator.responses import json_response, parse_json
from dispatcher.simulator.state import SimulatorState, sim_state
from dispatcher.simulator.store import SimMessage

INVALID_DATA = "The given data was invalid."
DUPLICATE = "Too many duplicate request detected"
#: BSG's 401 body is not published; this is its framework's usual one (*unconfirmed*).
UNAUTHENTICATED = "Unauthenticated."
NOT_FOUND = "Not found."
ACCOUNT_SUBJECT = "bsg-account"
PRICE = ("0.0500000", "USD")
#: A number on the block list counts as on the RCS stop list: not sent, status `failed`.
STOP_LIST_OUTCOME = "failed"
_DELIVERED = frozenset({"delivered", "read"})


def unauthenticated() -> Response:
    return json_response({"message": UNAUTHENTICATED}, 401)


def _authorized(request: Request, sim: SimulatorState) -> bool:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return False
    return sim.jwt.subject(header[len("Bearer ") :].strip()) == ACCOUNT_SUBJECT


def _issue(sim: SimulatorState) -> Response:
    return json_response({"bearer": sim.jwt.issue(ACCOUNT_SUBJECT, sim.config.jwt_lifetime_s)})


async def login(request: Request) -> Response:
    sim = sim_state(request)
    parsed, body = parse_json(await request.body())
    api_key = body.get("api_key") if parsed and isinstance(body, dict) else None
    if not isinstance(api_key, str) or not api_key:
        return json_response(
            {"message": INVALID_DATA, "errors": {"api_key": ["The api key field is required."]}}, 422
        )
    if not hmac.compare_digest(api_key, sim.credentials.bsg_api_key):
        return unauthenticated()
    return _issue(sim)


async def refresh(request: Request) -> Response:
    sim = sim_state(request)
    if not _authorized(request, sim):
        return unauthenticated()
    return _issue(sim)


def _validity_hours(body: dict[str, Any]) -> int:
    if "validity" in body:
        return int(body["validity"])
    if "validity_seconds" in body:
        return math.ceil(int(body["validity_seconds"]) / 3600)
    return VALIDITY_HOURS[1]


def message_object(message: SimMessage) -> dict[str, Any]:
    """A message in BSG's response shape (send and lookup)."""
    return {
        "id": int(message.id),
        "reference_id": message.reference_id,
        "source": "rest",
        "type": "rcs",
        "phone": int(message.destination),
        "status": message.status,
        "validity": _validity_hours(message.payload),
        "amount": {"value": PRICE[0], "currency": PRICE[1]},
        "sender": message.payload["sender"],
        "created_at": utc_plain(message.created_at),
        "sent_at": utc_plain(message.sent_at),
        "delivered_at": utc_plain(message.status_at) if message.status in _DELIVERED else None,
    }


async def send_rcs(request: Request) -> Response:
    sim = sim_state(request)
    if not _authorized(request, sim):
        return unauthenticated()
    parsed, body = parse_json(await request.body())
    errors = request_errors(body) if parsed else {"body": ["The request body must be JSON."]}
    if errors:
        return json_response({"message": INVALID_DATA, "errors": errors}, 422)
    reference_id = body["phone"].get("reference_id")
    if reference_id is not None and reference_id in sim.store.bsg_by_reference:
        return json_response({"message": DUPLICATE}, 429)
    now = time.time()
    destination = body["phone"]["number"]
    message = SimMessage(
        provider="bsg",
        id=str(sim.ids.bsg_id()),
        destination=destination,
        channel="RCS",
        request_seq=request.scope["sim.seq"],
        payload=body,
        status=INITIAL_STATUS["bsg"],
        created_at=now,
        status_at=now,
        reference_id=reference_id,
        callback_url=body.get("callback_url"),
    )
    if body.get("check_stop_list", True) and destination in sim.config.blocked_numbers:
        message.forced_outcome = STOP_LIST_OUTCOME
    sim.store.add(message)
    sim.lifecycle.accept([message])
    return json_response({"data": message_object(message)})


async def list_messages(request: Request) -> Response:
    sim = sim_state(request)
    if not _authorized(request, sim):
        return unauthenticated()
    query = request.query_params
    messages = sim.store.all("bsg")
    # BSG's OpenAPI spells list filters `filter[reference_id]`; the plain name is accepted too.
    references = set(query.getlist("filter[reference_id]") + query.getlist("reference_id"))
    if references:
        messages = [message for message in messages if message.reference_id in references]
    ids = set(query.getlist("filter[id]") + query.getlist("id"))
    if ids:
        messages = [message for message in messages if message.id in ids]
    return json_response({"data": [message_object(message) for message in messages]})


async def get_message(request: Request) -> Response:
    sim = sim_state(request)
    if not _authorized(request, sim):
        return unauthenticated()
    message = sim.store.get("bsg", str(request.path_params["message_id"]))
    if message is None:
        return json_response({"message": NOT_FOUND}, 404)
    return json_response({"data": message_object(message)})


ROUTES = [
    Route("/bsg/api/auth/login", login, methods=["POST"]),
    Route("/bsg/api/auth/refresh", refresh, methods=["POST"]),
    Route("/bsg/api/messages/rcs/send", send_rcs, methods=["POST"]),
    Route("/bsg/api/messages", list_messages, methods=["GET"]),
    Route("/bsg/api/messages/{message_id:int}", get_message, methods=["GET"]),
]
