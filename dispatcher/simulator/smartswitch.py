"""Smartswitch HTTP API: ``POST /smartswitch/api/message`` with everything in the query string.

The query is a sequence: credentials, then one group per recipient, each group starting at
``destination_number`` and followed by that recipient's own parameters.
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.numbering import is_valid_e164_digits as is_valid_msisdn
from dispatcher.simulator.gsm7 import segment_count
from dispatcher.simulator.lifecycle import INITIAL_STATUS
from dispatcher.simulator.responses import json_response
from dispatcher.simulator.state import SimulatorState, sim_state
from dispatcher.simulator.store import SimMessage

#: Error code -> (HTTP status, title, default detail). Only `authentication` is documented; the
#: HTTP statuses are *unconfirmed*.
ERRORS = {
    "authentication": (401, "Authentication error", "Please check your login and password"),
    "validation": (400, "Validation error", "Invalid parameters"),
}
CREDENTIALS = ("_login", "_password")
GROUP_START = "destination_number"
GROUP_PARAMETERS = frozenset(
    {GROUP_START, "body", "source_name", "source_number", "require_dlr", "stealth_ping", "request_id"}
)
FLAG_PARAMETERS = ("require_dlr", "stealth_ping")
FLAG_VALUES = frozenset({"0", "1"})
STATUS_ERROR = "error"
_SOURCE_NUMBER = re.compile(r"[0-9]{1,15}")


class InvalidParameters(Exception):
    """A request whose parameters break a rule; the message is the error's detail."""


@dataclass(frozen=True)
class Recipient:
    fields: dict[str, str]

    @property
    def destination(self) -> str:
        return self.fields[GROUP_START]


def error_response(code: str, detail: str | None = None) -> Response:
    status, title, default_detail = ERRORS[code]
    return json_response(
        {"errors": [{"code": code, "detail": detail or default_detail, "title": title}]}, status
    )


def _check_group(index: int, group: dict[str, str]) -> None:
    destination = group[GROUP_START]
    if not is_valid_msisdn(destination):
        raise InvalidParameters(
            f"recipient {index}: destination_number {destination!r} is not a valid number"
        )
    for flag in FLAG_PARAMETERS:
        if flag in group and group[flag] not in FLAG_VALUES:
            raise InvalidParameters(f"recipient {index}: {flag} must be 0 or 1, not {group[flag]!r}")
    if "source_number" in group and _SOURCE_NUMBER.fullmatch(group["source_number"]) is None:
        raise InvalidParameters(f"recipient {index}: source_number must be 1..15 digits")
    if "source_name" in group and group["source_name"] == "":
        raise InvalidParameters(f"recipient {index}: source_name must not be empty")


def parse_recipients(pairs: list[tuple[str, str]]) -> list[Recipient]:
    """Split the query into recipient groups, refusing anything out of place."""
    groups: list[dict[str, str]] = []
    for name, value in pairs:
        if name in CREDENTIALS:
            continue
        if name not in GROUP_PARAMETERS:
            raise InvalidParameters(f"unknown parameter {name!r}")
        if name == GROUP_START:
            groups.append({name: value})
        elif not groups:
            raise InvalidParameters(f"{name} comes before the first destination_number")
        elif name in groups[-1]:
            raise InvalidParameters(f"recipient {len(groups)}: {name} given twice")
        else:
            groups[-1][name] = value
    if not groups:
        raise InvalidParameters("destination_number is required")
    for index, group in enumerate(groups, start=1):
        _check_group(index, group)
    return [Recipient(group) for group in groups]


def _authenticated(pairs: list[tuple[str, str]], sim: SimulatorState) -> bool:
    logins = [value for name, value in pairs if name == "_login"]
    passwords = [value for name, value in pairs if name == "_password"]
    if len(logins) != 1 or len(passwords) != 1:
        return False
    login_ok = hmac.compare_digest(logins[0], sim.credentials.smartswitch_login)
    password_ok = hmac.compare_digest(passwords[0], sim.credentials.smartswitch_password)
    return login_ok and password_ok


def _data_item(message_id: str, recipient: Recipient, status: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "attributes": {
            "destination_number": recipient.destination,
            "segments": segment_count(recipient.fields.get("body", "")),
            "status": status,
        },
        "id": message_id,
        "type": "message",
    }
    if "request_id" in recipient.fields:
        item["meta"] = {"request_id": recipient.fields["request_id"]}
    return item


async def send(request: Request) -> Response:
    sim = sim_state(request)
    pairs = request.query_params.multi_items()
    if not _authenticated(pairs, sim):
        return error_response("authentication")
    if await request.body():
        return error_response("validation", "parameters belong in the query string; the body must be empty")
    try:
        recipients = parse_recipients(pairs)
    except InvalidParameters as exc:
        return error_response("validation", str(exc))
    blocked = frozenset(sim.config.blocked_numbers)
    now = time.time()
    seq: int = request.scope["sim.seq"]
    data = []
    accepted = []
    for recipient in recipients:
        message = SimMessage(
            provider="smartswitch",
            id=sim.ids.smartswitch_id(),
            destination=recipient.destination,
            channel="SMS",
            request_seq=seq,
            payload=recipient.fields,
            status=INITIAL_STATUS["smartswitch"],
            created_at=now,
            status_at=now,
        )
        if recipient.destination in blocked:
            message.status, message.final = "rejected", True
            data.append(_data_item(message.id, recipient, STATUS_ERROR))
        else:
            accepted.append(message)
            data.append(_data_item(message.id, recipient, sim.config.smartswitch_ok_status))
        sim.store.add(message)
    sim.lifecycle.accept(accepted)
    return json_response({"data": data[0] if len(data) == 1 else data})


ROUTES = [Route("/smartswitch/api/message", send, methods=["POST"])]
