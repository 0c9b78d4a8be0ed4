"""BSG One-API v2 RCS adapter: one message per request, bearer-token auth, lookup by reference_id.

``send`` posts one ``BsgRcs`` to ``/api/messages/rcs/send`` and returns ``Submitted`` or
``Rejected``, or raises from ``dispatcher.errors``. BSG enforces ``phone.reference_id`` as an
idempotency key: a second message with the same one gets 429 "Too many duplicate request detected",
which here is ``DuplicateSubmission`` (the first one exists: look it up), not throttling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from dispatcher.accounts import BsgAccount
from dispatcher.errors import BadCredentials, DuplicateSubmission, RateLimited, UnexpectedResponse
from dispatcher.models.bsg import BsgRcs
from dispatcher.providers.base import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_READ_TIMEOUT_S,
    HttpReply,
    HttpTransport,
    parse_retry_after,
)
from dispatcher.providers.bsg_auth import BsgTokens
from dispatcher.providers.bsg_callbacks import delivery_status, provider_time
from dispatcher.providers.outcomes import DeliveryStatus, Outcome, Rejected, Submitted

SEND_PATH = "/api/messages/rcs/send"
MESSAGES_PATH = "/api/messages"
#: The filter ``GET /api/messages`` takes, as BSG's OpenAPI spec (and its SDKs) spell it.
LOOKUP_QUERY_PARAM = "filter[reference_id]"
DUPLICATE_MESSAGE = "Too many duplicate request detected"


@dataclass(frozen=True, slots=True)
class RemoteRcs:
    """What BSG holds for one of our messages (found by its reference_id)."""

    provider_message_id: str
    reference_id: str | None
    provider_status: str
    #: ``None`` while BSG still holds the message (scheduled, moderation, accepted, sending).
    status: DeliveryStatus | None
    created_at: datetime | None


def wire_message(message: BsgRcs) -> dict[str, Any]:
    """The JSON body of ``POST /api/messages/rcs/send``: the fields that are set, BSG's names."""
    return message.model_dump(mode="json", exclude_none=True)


def interpret_send_reply(reply: HttpReply, *, provider: str) -> Outcome:
    """The outcome of one send, from BSG's answer (401 is handled before, by the caller)."""
    if reply.status in (200, 201):
        body = reply.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not _is_message_id(data.get("id")):
            raise UnexpectedResponse(f"HTTP {reply.status} without data.id", provider=provider)
        return Submitted(str(data["id"]))
    if reply.status == 422:
        return Rejected(code="422", reason=validation_reason(reply, provider=provider))
    if reply.status == 429:
        if is_duplicate_answer(reply):
            raise DuplicateSubmission("reference_id already used: the message exists", provider=provider)
        retry_after = parse_retry_after(reply.headers.get("retry-after"))
        raise RateLimited("HTTP 429 (throttled)", provider=provider, retry_after_s=retry_after)
    raise UnexpectedResponse(f"HTTP {reply.status}: {reply.body[:200]!r}", provider=provider)


def is_duplicate_answer(reply: HttpReply) -> bool:
    """BSG's 429 for a reused reference_id, told apart from throttling by its body."""
    try:
        body = orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(body, dict) and body.get("message") == DUPLICATE_MESSAGE


def validation_reason(reply: HttpReply, *, provider: str) -> str:
    """``field: problem; ...`` from BSG's ``{"message": ..., "errors": {"field": ["..."]}}``."""
    body = reply.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, dict) or not errors:
        raise UnexpectedResponse(f"HTTP {reply.status} without an errors object", provider=provider)
    return "; ".join(
        f"{field}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
        for field, problems in errors.items()
    )


def remote_message(item: object, *, provider: str) -> RemoteRcs:
    """One message object of ``GET /api/messages``."""
    if not isinstance(item, dict) or not _is_message_id(item.get("id")):
        raise UnexpectedResponse("a message without an id in GET /api/messages", provider=provider)
    status = item.get("status")
    reference_id = item.get("reference_id")
    return RemoteRcs(
        provider_message_id=str(item["id"]),
        reference_id=reference_id if isinstance(reference_id, str) else None,
        provider_status=status if isinstance(status, str) else "",
        status=delivery_status(status) if isinstance(status, str) else DeliveryStatus.UNKNOWN,
        created_at=provider_time(item.get("created_at")),
    )


class BsgAdapter:
    """Sends BSG RCS messages for one account. Thread-safe: worker threads may share one adapter."""

    def __init__(
        self,
        account: BsgAccount,
        *,
        transport: HttpTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.provider = account.provider
        self._transport = transport or HttpTransport(
            provider=account.provider,
            base_url=account.base_url,
            connect_timeout_s=account.connect_timeout_s or DEFAULT_CONNECT_TIMEOUT_S,
            read_timeout_s=account.read_timeout_s or DEFAULT_READ_TIMEOUT_S,
        )
        self._tokens = BsgTokens(
            self._transport,
            api_key=account.api_key,
            refresh_margin_s=account.refresh_margin_s,
            clock=clock,
        )

    def send(self, message: BsgRcs) -> Outcome:
        return self.send_wire(wire_message(message))

    def send_wire(self, item: Mapping[str, Any]) -> Outcome:
        """Send one message already encoded by ``wire_message`` (it carries its ``reference_id``)."""
        reply = self._authorized("POST", SEND_PATH, json_body=item, raw_statuses=(429,))
        return interpret_send_reply(reply, provider=self.provider)

    def lookup(self, reference_id: str) -> RemoteRcs | None:
        """The message BSG holds under ``reference_id``, or ``None`` when it has none."""
        reply = self._authorized("GET", MESSAGES_PATH, params={LOOKUP_QUERY_PARAM: reference_id})
        if reply.status != 200:
            raise UnexpectedResponse(f"lookup answered HTTP {reply.status}", provider=self.provider)
        body = reply.json()
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise UnexpectedResponse("lookup answer without a data list", provider=self.provider)
        found = [remote_message(item, provider=self.provider) for item in items]
        # The filter should leave only ours; checking again costs nothing and guards a lax filter.
        return next((item for item in found if item.reference_id == reference_id), None)

    def close(self) -> None:
        self._transport.close()

    def _authorized(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        raw_statuses: tuple[int, ...] = (),
    ) -> HttpReply:
        """One call with the bearer token; after a 401 (not processed) log in again and retry once."""
        token = self._tokens.bearer()
        for attempt in range(2):
            reply = self._transport.request(
                method,
                path,
                params=params,
                json_body=json_body,
                headers={"Authorization": f"Bearer {token}"},
                raw_statuses=raw_statuses,
            )
            if reply.status != 401:
                return reply
            if attempt == 0:
                token = self._tokens.login_again(rejected=token)
        raise BadCredentials(
            "the token from a fresh login was refused (HTTP 401)", provider=self.provider, code="401"
        )


def _is_message_id(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value != ""
    )
