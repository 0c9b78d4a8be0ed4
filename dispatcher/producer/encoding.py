"""Wire items, encoded once at intake with the adapters' pure functions (docs/pipeline.md §4).

The worker sends the stored bytes as they are, so every rule a provider checks on the whole item
is settled here. Two fields are ours, not the producer's: BSG's ``reference_id`` and Smartswitch's
``request_id`` carry the message id, so reconciliation and reply matching find the message by it.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

import orjson

from dispatcher.accounts import Account, SmartswitchAccount
from dispatcher.errors import ConfigurationError, InvalidMessage, Problem
from dispatcher.models.bsg import CALLBACK_URL_MAX, BsgRcs
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.providers import bsg, revicom_wire
from dispatcher.providers.smartswitch import request as smartswitch_request
from dispatcher.providers.smartswitch.request import MESSAGE_PATH as SMARTSWITCH_MESSAGE_PATH

#: Room kept for Smartswitch credentials in the URL when this process does not hold them.
ASSUMED_CREDENTIALS_BYTES = 160


#: The Revicom events our callback URL asks for: every state change (price and click are not states).
REVICOM_CALLBACK_EVENTS = ("sent", "delivered", "read")


def encode_wire(message: object, message_id: str, account: Account, callback_url: str | None = None) -> bytes:
    """The JSON of ``message``'s wire item for ``account``; raises InvalidMessage when it cannot go.

    ``callback_url``: where the provider reports delivery (Revicom and BSG take it per message).
    """
    if isinstance(message, SmartswitchSms):
        return _smartswitch_group(message, message_id, account)
    if isinstance(message, BsgRcs):
        return _bsg_item(message, message_id, callback_url)
    item = revicom_wire.wire_message(message)  # type: ignore[arg-type]
    if callback_url is not None:
        _refuse_own_callback(getattr(message, "callback_url", None))
        item["callbackUrl"] = callback_url
        item["callbackEvents"] = list(REVICOM_CALLBACK_EVENTS)
    return _json(item)


def _json(item: object) -> bytes:
    """``item`` as JSON. The channel models admit only what JSON carries (no lone surrogates, 64-bit
    integers); should a value slip past them, the producer still gets InvalidMessage, never a
    TypeError (an HTTP 500)."""
    try:
        return orjson.dumps(item)
    except orjson.JSONEncodeError as exc:
        raise InvalidMessage([Problem("(message)", None, f"cannot be encoded as JSON: {exc}")]) from None


def _bsg_item(message: BsgRcs, message_id: str, callback_url: str | None) -> bytes:
    if message.phone.reference_id is not None:
        raise InvalidMessage(
            [Problem("phone.reference_id", message.phone.reference_id, _OURS.format(name="reference_id"))]
        )
    item = bsg.wire_message(message)
    item["phone"]["reference_id"] = message_id
    if callback_url is not None:
        _refuse_own_callback(message.callback_url)
        if len(callback_url) > CALLBACK_URL_MAX:
            raise ConfigurationError(
                f"the callback URL is {len(callback_url)} characters; BSG takes at most "
                f"{CALLBACK_URL_MAX}: shorten DISPATCHER_CALLBACK_BASE_URL or the callback secret"
            )
        item["callback_url"] = callback_url
    return _json(item)


def _refuse_own_callback(value: object) -> None:
    if value is not None:
        raise InvalidMessage(
            [
                Problem(
                    "callback_url",
                    value,
                    "is set by the dispatcher when callbacks are enabled; ask for status webhooks "
                    "with webhook_url instead",
                )
            ]
        )


def _smartswitch_group(message: SmartswitchSms, message_id: str, account: Account) -> bytes:
    if message.request_id is not None:
        raise InvalidMessage([Problem("request_id", message.request_id, _OURS.format(name="request_id"))])
    group = [*smartswitch_request.recipient_group(message), ("request_id", message_id)]
    assert isinstance(account, SmartswitchAccount)
    try:
        query = urlencode(group)
    except UnicodeEncodeError as exc:  # a lone surrogate the model should have refused
        raise InvalidMessage([Problem("(message)", None, f"cannot be put in a URL: {exc.reason}")]) from None
    needed = _smartswitch_fixed_bytes(account) + 1 + len(query)
    if needed > account.max_url_bytes:
        # Smartswitch takes everything in the URL: a recipient that cannot fit alone can never go.
        raise InvalidMessage(
            [
                Problem(
                    "body",
                    _excerpt(message.body or ""),
                    f"needs a {needed}-byte request URL, above account {account.name!r}'s "
                    f"max_url_bytes={account.max_url_bytes} (Smartswitch takes every parameter in the URL)",
                )
            ]
        )
    return _json(group)


_OURS = "is set by the dispatcher (the message id, which reconciliation looks up): leave {name} out"


@cache
def _smartswitch_fixed_bytes(account: SmartswitchAccount) -> int:
    endpoint = account.base_url.rstrip("/") + SMARTSWITCH_MESSAGE_PATH
    try:
        return smartswitch_request.fixed_url_bytes(
            endpoint, login=account.login(), password=account.password()
        )
    except ConfigurationError:
        # A producer need not hold provider secrets: assume generous ones.
        return len(endpoint.encode()) + 1 + ASSUMED_CREDENTIALS_BYTES


def _excerpt(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
