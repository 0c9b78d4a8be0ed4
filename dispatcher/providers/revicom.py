"""Revicom Direct adapter: send batches, look up what a request created, stop messages, read the
balance. Bodies and replies are built and read by the pure functions of ``revicom_wire``; this
module only does the HTTP around them.

Errors (``dispatcher.errors``): documented error bodies become ``NotAuthenticated`` (4010),
``BadCredentials`` (4012), ``AccessDenied`` (4030) or ``BatchRejected`` (4220) whatever the HTTP
status; 429/5xx and connection failures come from ``HttpTransport``; anything unreadable is an
``UnexpectedResponse``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from dispatcher.accounts import RevicomAccount
from dispatcher.errors import UnexpectedResponse
from dispatcher.models.revicom import RevicomMessage
from dispatcher.models.revicom_fields import is_valid_tag
from dispatcher.providers.base import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, HttpTransport
from dispatcher.providers.outcomes import Outcome
from dispatcher.providers.revicom_wire import (
    MAX_MESSAGES_PER_QUERY,
    MAX_MESSAGES_PER_REQUEST,
    MAX_UUIDS_PER_STOP,
    PROVIDER,
    RemoteMessage,
    StopResult,
    balances,
    encode_batch,
    outcomes_from_send,
    read_reply,
    remote_messages,
    stop_results,
    tagged,
    tagged_body,
    wire_batch,
    wire_message,
)

__all__ = ["RemoteMessage", "RevicomAdapter", "StopResult", "wire_batch", "wire_message"]

log = logging.getLogger(__name__)

MESSAGE_PATH = "/api/v1/message"
STOP_PATH = "/api/v1/message/stop"
BALANCE_PATH = "/api/v1/balance"
#: Page size of tag look-ups: one page holds everything one request (<= 1,000 messages) created.
LOOKUP_PAGE_SIZE = 1000


class RevicomAdapter:
    """One Revicom account's API. Thread-safe as far as its pooled ``HttpTransport`` is."""

    def __init__(self, account: RevicomAccount, *, transport: HttpTransport | None = None) -> None:
        self.account = account
        self.transport = transport or HttpTransport(
            provider=PROVIDER,
            base_url=account.base_url,
            connect_timeout_s=account.connect_timeout_s or DEFAULT_CONNECT_TIMEOUT_S,
            read_timeout_s=account.read_timeout_s or DEFAULT_READ_TIMEOUT_S,
        )

    def _headers(self) -> dict[str, str]:
        # The token is read at every call, so a rotated secret needs no restart.
        return {"Authorization": f"Basic {self.account.token()}", "Accept": "application/json"}

    def send(self, messages: Sequence[RevicomMessage], *, request_tag: str) -> list[Outcome]:
        """Send up to 1,000 messages in one request; one outcome per message, in order.

        ``request_tag`` must be unique to this request (see ``find_by_tag``).
        """
        return self.send_wire(wire_batch(messages, request_tag), request_tag=request_tag)

    def send_wire(self, items: Sequence[dict[str, Any]], *, request_tag: str) -> list[Outcome]:
        """Send wire items (``wire_message`` output, already checked) as one request tagged ``request_tag``.

        Items that do not carry the tag yet get it; one outcome per item, in order.
        """
        _check_request(len(items), request_tag)
        body = encode_batch([tagged(item, request_tag) for item in items])
        return self._post_batch(body, len(items), request_tag)

    def send_encoded(self, wires: Sequence[bytes], *, request_tag: str) -> list[Outcome]:
        """``send_wire`` for wire items stored as JSON (what the pipeline holds), without decoding them."""
        _check_request(len(wires), request_tag)
        return self._post_batch(tagged_body(wires, request_tag), len(wires), request_tag)

    def _post_batch(self, body: bytes, count: int, request_tag: str) -> list[Outcome]:
        log.debug("revicom send: %d messages, %d bytes, tag %s", count, len(body), request_tag)
        reply = self.transport.request(
            "POST",
            MESSAGE_PATH,
            data=body,
            headers={**self._headers(), "Content-Type": "application/json"},
        )
        return outcomes_from_send(read_reply(reply.status, reply.body), expected=count)

    def find_by_tag(self, tag: str) -> list[RemoteMessage]:
        """Every message the provider holds with ``tag``, following pages until the last one."""
        found: dict[str, RemoteMessage] = {}
        page = 1
        while True:
            reply = self.transport.request(
                "GET",
                MESSAGE_PATH,
                params={"tags": tag, "page": page, "per_page": LOOKUP_PAGE_SIZE},
                headers=self._headers(),
            )
            batch = remote_messages(read_reply(reply.status, reply.body))
            # Messages may shift between pages while we read: keep each uuid once.
            found.update(
                (message.message_uuid, message) for message in batch if message.message_uuid not in found
            )
            if len(batch) < LOOKUP_PAGE_SIZE:
                return list(found.values())
            if (page + 1) * LOOKUP_PAGE_SIZE > MAX_MESSAGES_PER_QUERY:
                raise UnexpectedResponse(
                    f"more than {MAX_MESSAGES_PER_QUERY} messages carry tag {tag!r}: a look-up sees no more",
                    provider=PROVIDER,
                )
            page += 1

    def stop(self, uuids: Sequence[str]) -> dict[str, StopResult]:
        """Ask the provider to stop messages not yet sent; the result per uuid (see ``StopResult``)."""
        if len(uuids) > MAX_UUIDS_PER_STOP:
            raise ValueError(
                f"Revicom stops at most {MAX_UUIDS_PER_STOP} messages per request, not {len(uuids)}"
            )
        if not uuids:
            return {}
        reply = self.transport.request(
            "POST", STOP_PATH, json_body={"uuids": list(uuids)}, headers=self._headers()
        )
        return stop_results(read_reply(reply.status, reply.body))

    def balance(self) -> dict[str, Decimal]:
        """The account's balance per currency."""
        reply = self.transport.request("GET", BALANCE_PATH, headers=self._headers())
        return balances(read_reply(reply.status, reply.body, decimals=True))

    def close(self) -> None:
        self.transport.close()


def _check_request(count: int, request_tag: str) -> None:
    if not 1 <= count <= MAX_MESSAGES_PER_REQUEST or not is_valid_tag(request_tag):
        raise ValueError(f"{count} items with tag {request_tag!r}: not a valid Revicom request")
