"""Building Smartswitch send requests: query parameters, and packing recipients under the URL bound.

Smartswitch takes everything, credentials included, in the query string of ``POST /api/message``;
several recipients repeat the group ``destination_number, body, ...`` (the documented 2-recipient
example). The URL therefore grows with every recipient and must stay under the account's
``max_url_bytes`` (servers commonly refuse URLs above 8 KB).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.smartswitch import SmartswitchSms

MESSAGE_PATH = "/api/message"

QueryParams = list[tuple[str, str]]


def _flag(value: bool) -> str:
    return "1" if value else "0"


def recipient_group(message: SmartswitchSms) -> QueryParams:
    """The parameters of one recipient, in the documented order; absent optional fields are left out.

    ``require_dlr`` is always sent (our explicit choice); ``stealth_ping`` only when set, since its
    absence means 0 on the provider's side and the documented examples leave it out.
    """
    group = [("destination_number", message.destination_number)]
    if message.body is not None:
        group.append(("body", message.body))
    if message.source_name is not None:
        group.append(("source_name", message.source_name))
    if message.source_number is not None:
        group.append(("source_number", message.source_number))
    group.append(("require_dlr", _flag(message.require_dlr)))
    if message.stealth_ping:
        group.append(("stealth_ping", _flag(message.stealth_ping)))
    if message.request_id is not None:
        group.append(("request_id", message.request_id))
    return group


def query_params(messages: Sequence[SmartswitchSms], *, login: str, password: str) -> QueryParams:
    """Credentials first, then one recipient group per message, in the order of ``messages``."""
    params: QueryParams = [("_login", login), ("_password", password)]
    for message in messages:
        params.extend(recipient_group(message))
    return params


def fixed_url_bytes(endpoint_url: str, *, login: str, password: str) -> int:
    """Bytes of the URL before any recipient: endpoint, ``?`` and the credentials."""
    return len(endpoint_url.encode()) + 1 + len(urlencode([("_login", login), ("_password", password)]))


def group_url_bytes(message: SmartswitchSms) -> int:
    """Bytes one recipient adds to the URL: ``&`` and its form-encoded group (as ``requests`` encodes it)."""
    return 1 + len(urlencode(recipient_group(message)))


def url_bytes(messages: Sequence[SmartswitchSms], *, fixed_bytes: int) -> int:
    """Length of the full request URL for ``messages`` given the fixed part's length."""
    return fixed_bytes + sum(group_url_bytes(message) for message in messages)


def pack(
    messages: Sequence[SmartswitchSms], *, max_url_bytes: int, fixed_bytes: int
) -> list[list[SmartswitchSms]]:
    """Split ``messages`` (order kept) into requests whose full URL is at most ``max_url_bytes``.

    Raises ``InvalidMessage`` naming every message that cannot fit even alone.
    """
    budget = max_url_bytes - fixed_bytes
    problems = [
        _too_long(index, message, needed=fixed_bytes + size, max_url_bytes=max_url_bytes)
        for index, message in enumerate(messages)
        if (size := group_url_bytes(message)) > budget
    ]
    if problems:
        raise InvalidMessage(problems)
    requests: list[list[SmartswitchSms]] = []
    current: list[SmartswitchSms] = []
    used = 0
    for message in messages:
        size = group_url_bytes(message)
        if current and used + size > budget:
            requests.append(current)
            current, used = [], 0
        current.append(message)
        used += size
    if current:
        requests.append(current)
    return requests


def _too_long(index: int, message: SmartswitchSms, *, needed: int, max_url_bytes: int) -> Problem:
    # Name the parameter that takes the most room: it is the one to shorten (nearly always the body).
    field, value = max(recipient_group(message), key=lambda param: len(urlencode([param])))
    shown = value if len(value) <= 40 else f"{value[:40]}... ({len(value)} characters)"
    return Problem(
        field=field,
        value=shown,
        rule=(
            f"message #{index} needs a {needed}-byte request URL, above this account's max_url_bytes="
            f"{max_url_bytes} (Smartswitch takes every parameter in the URL): shorten {field}"
        ),
    )
